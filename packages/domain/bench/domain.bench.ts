/**
 * Domain benchmarks: commands/s through the in-memory handler, and events/s folded by `evolve`
 * over a long Space history. Each figure is printed beside a baseline measured in the same run.
 */
import { Effect, Layer, Schema } from "effect"
import {
  EventStore,
  evolve,
  initialSpaceState,
  InMemorySpaces,
  makeInMemoryEventStore,
  type SpaceCommand,
  SpaceEvent,
  SpaceId,
  Spaces,
  type SpaceState,
  spacesOn,
  UserId
} from "@spaces/domain"
import { printTable, rate, time } from "./report.js"

const SPACES = 100
const COMMANDS = 60_000
const space = (i: number) => SpaceId.make(`s${i}`)
const user = (i: number) => UserId.make(`u${i}`)

/** A room's busy minute: people join, raise hands, get approved, mute, leave. */
const workload = (): ReadonlyArray<SpaceCommand> => {
  const commands: SpaceCommand[] = []
  for (let i = 0; commands.length < COMMANDS; i++) {
    const spaceId = space(i % SPACES)
    const by = user(SPACES + (i % 20_000))
    const host = user(i % SPACES)
    commands.push(
      { _tag: "JoinSpace", spaceId, by },
      { _tag: "RaiseHand", spaceId, by },
      { _tag: "ApproveSpeakRequest", spaceId, by: host, user: by },
      { _tag: "UnmuteSpeaker", spaceId, by, user: by },
      { _tag: "MuteSpeaker", spaceId, by: host, user: by },
      { _tag: "LeaveSpace", spaceId, by }
    )
  }
  return commands
}

const createAll = (spaces: Spaces["Type"]) =>
  Effect.forEach(
    Array.from({ length: SPACES }, (_, i) => i),
    (i) =>
      spaces.execute({
        _tag: "CreateSpace",
        spaceId: space(i),
        by: user(i),
        title: `Room ${i}`,
        topics: ["music"],
        speakPolicy: "everyone",
        recording: false,
        captions: false
      })
  )

const throughHandler = (commands: ReadonlyArray<SpaceCommand>) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    yield* createAll(spaces)
    return yield* time(() =>
      Effect.runSync(Effect.forEach(commands, (c) => Effect.either(spaces.execute(c)), { discard: true }))
    )
  }).pipe(Effect.provide(InMemorySpaces()))

/** Baseline: the textbook handler, which folds the whole stream from scratch for every command. */
const refoldEveryTime = (commands: ReadonlyArray<SpaceCommand>) =>
  Effect.gen(function* () {
    // A state cache of size 0 is the textbook handler: nothing is kept between commands.
    const spaces = yield* Effect.provide(
      Spaces,
      spacesOn(Layer.sync(EventStore, makeInMemoryEventStore), { cacheSize: 0 })
    )
    yield* createAll(spaces)
    return yield* time(() =>
      Effect.runSync(Effect.forEach(commands, (c) => Effect.either(spaces.execute(c)), { discard: true }))
    )
  })

const longHistory = (size: number): ReadonlyArray<SpaceEvent> => {
  const spaceId = space(0)
  const host = user(0)
  const events: SpaceEvent[] = [
    {
      _tag: "SpaceCreated",
      spaceId,
      at: 0,
      host,
      title: "Marathon",
      topics: [],
      speakPolicy: "everyone",
      recording: true,
      captions: true,
      scheduledFor: null
    },
    { _tag: "SpaceStarted", spaceId, at: 0, host }
  ]
  for (let i = 0; events.length < size; i++) {
    const u = user(1 + (i % 10_000))
    const at = i
    events.push(
      { _tag: "ListenerJoined", spaceId, at, user: u },
      { _tag: "HandRaised", spaceId, at, user: u },
      { _tag: "SpeakRequestApproved", spaceId, at, user: u, by: host },
      { _tag: "SpeakerUnmuted", spaceId, at, user: u },
      { _tag: "SteppedDown", spaceId, at, user: u },
      {
        _tag: "CaptionAppended",
        spaceId,
        at,
        service: "t" as never,
        segment: { speaker: u, text: "hi", startMs: 0, endMs: 1 }
      }
    )
    // Everyone who joined before stays a while: the room holds up to 10,000 people.
    if (i >= 10_000)
      events.push({
        _tag: "ParticipantLeft",
        spaceId,
        at,
        user: user(1 + ((i - 10_000) % 10_000)),
        reason: "left"
      })
  }
  return events.slice(0, size)
}

/** Baseline fold: the same rules over native Maps copied on every event (plain immutable updates). */
const naiveFold = (events: ReadonlyArray<SpaceEvent>) => {
  let participants = new Map<string, string>()
  for (const e of events) {
    if (e._tag === "ListenerJoined") participants = new Map(participants).set(e.user, "listener")
    else if (e._tag === "SpeakRequestApproved") participants = new Map(participants).set(e.user, "speaker")
    else if (e._tag === "SteppedDown") participants = new Map(participants).set(e.user, "listener")
    else if (e._tag === "ParticipantLeft") {
      participants = new Map(participants)
      participants.delete(e.user)
    }
  }
  return participants.size
}

const fold = (events: ReadonlyArray<SpaceEvent>): SpaceState => events.reduce(evolve, initialSpaceState)

const main = Effect.gen(function* () {
  const commands = workload()
  const ours = yield* throughHandler(commands)
  const textbook = yield* refoldEveryTime(commands.slice(0, 6_000))

  const million = longHistory(1_000_000)
  const foldMillion = yield* time(() => fold(million))
  const encoded = million.map((e) => Schema.encodeSync(SpaceEvent)(e))
  const decodeAndFold = yield* time(() => fold(encoded.map((e) => Schema.decodeUnknownSync(SpaceEvent)(e))))
  const small = million.slice(0, 100_000)
  const oursSmall = yield* time(() => fold(small))
  const naiveSmall = yield* time(() => naiveFold(small))

  printTable("domain", [
    {
      figure: "commands/s through the in-memory handler (60,000 commands, 100 live Spaces)",
      ours: rate(commands.length, ours),
      baseline: rate(6_000, textbook),
      baselineName: "textbook handler refolding the stream per command (6,000 commands)"
    },
    {
      figure: "events/s folded by evolve (1,000,000-event history, up to 10,000 in the room)",
      ours: rate(million.length, foldMillion),
      baseline: rate(million.length, decodeAndFold),
      baselineName: "decode from JSON + evolve, same history (the replay path)"
    },
    {
      figure: "events/s folded by evolve (first 100,000 events)",
      ours: rate(small.length, oursSmall),
      baseline: rate(small.length, naiveSmall),
      baselineName: "native Map copied per event (participants only)"
    }
  ])
})

Effect.runPromise(main)
