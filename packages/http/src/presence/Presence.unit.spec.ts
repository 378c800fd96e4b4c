import { it } from "@effect/vitest"
import {
  EventStore,
  InMemorySpaces,
  type RecordedEvent,
  SpaceId,
  Spaces,
  spaceStream,
  UserId
} from "@spaces/domain"
import { Effect, Exit, HashMap, Layer, Queue, Scope, Stream, TestClock } from "effect"
import { describe, expect } from "vitest"
import { ConnectionTracker, InProcessConnectionTracker } from "./ConnectionTracker.js"
import { makePresence } from "./Presence.js"

const GRACE = 30_000
const s1 = SpaceId.make("s1")
const hana = UserId.make("hana")
const lee = UserId.make("lee")

const layer = Layer.merge(InMemorySpaces(), InProcessConnectionTracker)

/** A live Space hosted by hana with lee listening (as a live log would have it). */
const liveRoom = Effect.gen(function* () {
  const spaces = yield* Spaces
  yield* spaces.execute({
    _tag: "CreateSpace",
    spaceId: s1,
    by: hana,
    title: "Morning show",
    topics: [],
    speakPolicy: "everyone",
    recording: false,
    captions: false
  })
  yield* spaces.execute({ _tag: "JoinSpace", spaceId: s1, by: lee })
})

const leaves = Effect.gen(function* () {
  const store = yield* EventStore
  const events = yield* store.readStream(spaceStream(s1))
  return events
    .filter((r) => r.type === "ParticipantLeft" || r.type === "HostLeft")
    .map((r) => ({ type: r.type, ...(r.data as { user: string; reason: string }) }))
    .map(({ type, user, reason }) => ({ type, user, reason }))
})

/** Lets the forked fibers (connection changes, fired timers) run to their end. */
const settle = Effect.yieldNow().pipe(Effect.repeatN(100))
const after = (ms: number) => Effect.zipRight(TestClock.adjust(ms), settle)

const presenceWith = (options: {
  liveAtStart?: ReadonlyArray<{ spaceId: SpaceId; participants: ReadonlyArray<UserId> }>
  log?: Queue.Dequeue<RecordedEvent>
}) =>
  Effect.gen(function* () {
    const log = options.log ?? (yield* Queue.unbounded<RecordedEvent>())
    const presence = yield* makePresence({
      graceMs: GRACE,
      startup: Effect.succeed({ liveAtStart: options.liveAtStart ?? [], log: Stream.fromQueue(log) })
    })
    // Presence starts in the background: let it read its start.
    yield* settle
    return presence
  })

/** A live room, presence started, and `user` holding one event stream (a tab) open in it. */
const streamingIn = (user: UserId) =>
  Effect.gen(function* () {
    yield* liveRoom
    const presence = yield* presenceWith({})
    const tab = yield* Scope.make()
    yield* Scope.extend(presence.holdStream(s1, user), tab)
    return { presence, tab }
  })

describe("presence from connections", () => {
  it.scoped("a participant whose last connection is gone for the grace is left, as disconnected", () =>
    Effect.gen(function* () {
      const { tab } = yield* streamingIn(lee)
      yield* Scope.close(tab, Exit.void).pipe(Effect.zipLeft(settle))
      yield* after(GRACE - 1)
      expect(yield* leaves).toEqual([])
      yield* after(1)
      expect(yield* leaves).toEqual([{ type: "ParticipantLeft", user: "lee", reason: "disconnected" }])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("reconnecting within the grace changes nothing; one of two connections gone is not gone", () =>
    Effect.gen(function* () {
      const { presence, tab } = yield* streamingIn(lee)
      yield* presence.transportOpened(s1, lee, "t1")
      yield* Scope.close(tab, Exit.void).pipe(Effect.zipLeft(settle))
      yield* after(GRACE * 2)
      expect(yield* leaves).toEqual([])
      // The transport goes too, and a reloaded tab comes back before the grace ends.
      yield* presence.transportClosed("t1").pipe(Effect.zipLeft(settle))
      yield* after(GRACE - 1)
      const reloaded = yield* Scope.make()
      yield* Scope.extend(presence.holdStream(s1, lee), reloaded).pipe(Effect.zipLeft(settle))
      yield* after(GRACE * 2)
      expect(yield* leaves).toEqual([])
      expect(yield* presence.pending).toEqual([])
    }).pipe(Effect.provide(layer))
  )

  it.scoped("a disconnected host starts the host's grace (HostLeft, reason disconnected)", () =>
    Effect.gen(function* () {
      const { tab } = yield* streamingIn(hana)
      yield* Scope.close(tab, Exit.void).pipe(Effect.zipLeft(settle))
      yield* after(GRACE)
      expect(yield* leaves).toEqual([{ type: "HostLeft", user: "hana", reason: "disconnected" }])
      const state = yield* Effect.flatMap(Spaces, (s) => s.space(s1))
      expect(state.hostAway).not.toBeNull()
    }).pipe(Effect.provide(layer))
  )

  it.scoped("after a restart, everyone recorded in a live room gets the grace from the restart", () =>
    Effect.gen(function* () {
      yield* liveRoom
      const presence = yield* presenceWith({ liveAtStart: [{ spaceId: s1, participants: [hana, lee] }] })
      expect((yield* presence.pending).length).toBe(2)
      // lee's client reconnects in time; hana's never does.
      const tab = yield* Scope.make()
      yield* Scope.extend(presence.holdStream(s1, lee), tab)
      yield* after(GRACE - 1)
      expect(yield* leaves).toEqual([])
      yield* after(1)
      expect(yield* leaves).toEqual([{ type: "HostLeft", user: "hana", reason: "disconnected" }])
      const state = yield* Effect.flatMap(Spaces, (s) => s.space(s1))
      expect(HashMap.has(state.participants, lee)).toBe(true)
    }).pipe(Effect.provide(layer))
  )

  it.scoped("joining without ever connecting starts the grace (from the log)", () =>
    Effect.gen(function* () {
      const log = yield* Queue.unbounded<RecordedEvent>()
      const store = yield* EventStore
      const presence = yield* presenceWith({ log })
      yield* Stream.runForEach(store.subscribeAll(0), (r) => Queue.offer(log, r)).pipe(Effect.forkScoped)
      yield* liveRoom
      yield* settle
      expect((yield* presence.pending).map(([, u]) => u).sort()).toEqual(["hana", "lee"])
      yield* after(GRACE)
      expect((yield* leaves).map((l) => l.user).sort()).toEqual(["hana", "lee"])
      const tracker = yield* ConnectionTracker
      expect(yield* tracker.isConnected(s1, lee)).toBe(false)
    }).pipe(Effect.provide(layer))
  )
})
