import { Effect, Either, HashMap, Layer, Stream } from "effect"
import { describe, expect, it } from "vitest"
import {
  type EventMetadata,
  EventStore,
  type EventStoreShape,
  type StreamAppend
} from "../eventstore/EventStore.js"
import { WrongExpectedVersion } from "../eventstore/EventStoreError.js"
import { makeInMemoryEventStore } from "../eventstore/InMemoryEventStore.js"
import { SpaceId, UserId } from "../ids.js"
import { spacesOn } from "../layers.js"
import { defaultRoomRules, type RoomRules } from "../rules/RoomRules.js"
import { spaceStream } from "../streams.js"
import { oneStreamAtATime } from "../testing/stores.js"
import { Spaces } from "./Spaces.js"

const u = (name: string) => UserId.make(name)
const s = (name: string) => SpaceId.make(name)
const create = (spaceId: string, by: string, scheduledFor?: number) => ({
  _tag: "CreateSpace" as const,
  spaceId: s(spaceId),
  by: u(by),
  title: "A Space",
  topics: ["music"],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false,
  ...(scheduledFor === undefined ? {} : { scheduledFor })
})
const join = (spaceId: string, by: string) => ({ _tag: "JoinSpace" as const, spaceId: s(spaceId), by: u(by) })

/** The Spaces service, after these commands (creating and joining Spaces) were executed. */
const spacesWith = (...commands: ReadonlyArray<ReturnType<typeof create> | ReturnType<typeof join>>) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    for (const command of commands) yield* spaces.execute(command)
    return spaces
  })

const run = <A, E>(
  program: Effect.Effect<A, E, Spaces | EventStore>,
  options: { store?: EventStoreShape; rules?: RoomRules } = {}
) =>
  Effect.runPromise(
    program.pipe(
      Effect.provide(
        spacesOn(
          Layer.succeed(EventStore, options.store ?? makeInMemoryEventStore()),
          options.rules === undefined ? {} : { rules: options.rules }
        )
      )
    )
  )

describe("the command handler", () => {
  it("appends the decided events with metadata and answers the new revision", async () => {
    const { executed, recorded } = await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        const executed = yield* spaces.execute(create("a", "hana"), { correlationId: "req-1" })
        const recorded = yield* (yield* EventStore).readStream(spaceStream(s("a")))
        return { executed, recorded }
      })
    )
    expect(executed.events.map((e) => e._tag)).toEqual(["SpaceCreated", "SpaceStarted"])
    expect(executed.revision).toBe(1)
    expect(recorded.map((r) => r.type)).toEqual(["SpaceCreated", "SpaceStarted"])
    expect(recorded[0]!.metadata).toMatchObject({ actor: "hana", correlationId: "req-1" })
    expect(recorded[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it("a rejected command appends nothing", async () => {
    const count = await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"))
        const rejected = yield* Effect.either(
          spaces.execute({ _tag: "EndSpace", spaceId: s("a"), by: u("lee") })
        )
        expect(Either.isLeft(rejected) && rejected.left._tag).toBe("NotPermitted")
        return (yield* (yield* EventStore).readStream(spaceStream(s("a")))).length
      })
    )
    expect(count).toBe(2)
  })

  it("an idempotency key makes a retried command answer as the first time, appending once", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"))
        const first = yield* spaces.execute(join("a", "lee"), { idempotencyKey: "k1" })
        yield* spaces.execute({ _tag: "LeaveSpace", spaceId: s("a"), by: u("lee") })
        const retried = yield* spaces.execute(join("a", "lee"), { idempotencyKey: "k1" })
        expect(first.replayed).toBe(false)
        expect(retried).toEqual({ ...first, replayed: true })
        const state = yield* spaces.space(s("a"))
        expect(HashMap.has(state.participants, u("lee"))).toBe(false) // the retry did not join again
      })
    )
  })

  it("a key reused for a different command is refused, and changes nothing", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        const store = yield* EventStore
        yield* spaces.execute(create("a", "hana"))
        const first = yield* spaces.execute(join("a", "lee"), { idempotencyKey: "k1" })
        const recorded = yield* store.readStream(spaceStream(s("a")))
        expect(recorded[2]!.metadata.commandDigest).toMatch(/^fnv1a64:/)
        expect(recorded[0]!.metadata).not.toHaveProperty("commandDigest") // unkeyed: no fingerprint
        const reused = yield* Effect.either(
          spaces.execute({ _tag: "RaiseHand", spaceId: s("a"), by: u("lee") }, { idempotencyKey: "k1" })
        )
        expect(Either.isLeft(reused) && reused.left).toMatchObject({
          _tag: "IdempotencyKeyReused",
          key: "k1",
          kind: "invalid"
        })
        expect((yield* store.readStream(spaceStream(s("a")))).length).toBe(3)
        expect((yield* spaces.space(s("a"))).raisedHands).toEqual([])
        // The command the key was first used for still replays.
        expect(yield* spaces.execute(join("a", "lee"), { idempotencyKey: "k1" })).toEqual({
          ...first,
          replayed: true
        })
      })
    )
  })

  it("a reused key on a command that enters a Space moves nobody", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"), create("b", "bob"))
        yield* spaces.execute(join("a", "lee"), { idempotencyKey: "k1" })
        yield* spaces.execute({ _tag: "InviteSpeaker", spaceId: s("a"), by: u("hana"), user: u("lee") })
        yield* spaces.execute(join("b", "lee"))
        const userLog = (yield* (yield* EventStore).readStream("user-lee")).length
        const reused = yield* Effect.either(
          spaces.execute(
            { _tag: "AcceptSpeakerInvite", spaceId: s("a"), by: u("lee") },
            { idempotencyKey: "k1" }
          )
        )
        expect(Either.isLeft(reused) && reused.left._tag).toBe("IdempotencyKeyReused")
        expect((yield* (yield* EventStore).readStream("user-lee")).length).toBe(userLog)
        expect(HashMap.has((yield* spaces.space(s("b"))).participants, u("lee"))).toBe(true)
        expect(HashMap.has((yield* spaces.space(s("a"))).participants, u("lee"))).toBe(false)
      })
    )
  })

  it("events recorded before commands were fingerprinted still load and replay under their key", async () => {
    const store = makeInMemoryEventStore()
    const event = (
      data: { readonly _tag: string; readonly [field: string]: unknown },
      metadata: EventMetadata
    ) => ({
      id: `${data._tag}-0`,
      type: data._tag,
      data,
      metadata
    })
    const created = {
      _tag: "SpaceCreated",
      spaceId: "a",
      at: 1,
      host: "hana",
      title: "Old",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false,
      scheduledFor: null
    }
    await Effect.runPromise(
      store.append(
        "space-a",
        [
          event(created, { recordedAt: 1, actor: "hana" }),
          event({ _tag: "SpaceStarted", spaceId: "a", at: 1, host: "hana" }, { recordedAt: 1 }),
          // Keyed, as every keyed event was before `commandDigest` existed.
          event(
            { _tag: "ListenerJoined", spaceId: "a", at: 1, user: "lee" },
            {
              recordedAt: 1,
              actor: "lee",
              idempotencyKey: "old"
            }
          )
        ],
        "no_stream"
      )
    )
    const replayed = await run(
      Effect.flatMap(Spaces, (spaces) =>
        spaces.execute({ _tag: "LeaveSpace", spaceId: s("a"), by: u("lee") }, { idempotencyKey: "old" })
      ),
      { store }
    )
    expect(replayed.replayed).toBe(true)
    expect(replayed.events.map((e) => e._tag)).toEqual(["ListenerJoined"])
  })

  it.each([
    ["one stream at a time", (store: EventStoreShape) => oneStreamAtATime(store)],
    ["with the user's move in one atomic append", (store: EventStoreShape) => store]
  ])("retries the decision on a concurrent write, on the newer state (%s)", async (_, shape) => {
    const inner = makeInMemoryEventStore()
    let injected = false
    // A writer that slips an event in between the handler's read and its append, once.
    const slipIn = (appends: ReadonlyArray<StreamAppend>) =>
      Effect.gen(function* () {
        if (injected || !appends.some((a) => a.stream === "space-a" && a.expected === 1)) return
        injected = true
        yield* inner.append(
          "space-a",
          [
            {
              id: "x",
              type: "ListenerJoined",
              data: { _tag: "ListenerJoined", spaceId: "a", at: 1, user: "olga" },
              metadata: { recordedAt: 1 }
            }
          ],
          1
        )
      })
    const racing = shape({
      ...inner,
      append: (stream, events, expected) =>
        Effect.zipRight(slipIn([{ stream, events, expected }]), inner.append(stream, events, expected)),
      appendMany: (appends) => Effect.zipRight(slipIn(appends), inner.appendMany!(appends))
    })
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"))
        const executed = yield* spaces.execute(join("a", "lee"))
        expect(executed.revision).toBe(3)
        const state = yield* spaces.space(s("a"))
        expect([...HashMap.keys(state.participants)].sort()).toEqual(["hana", "lee", "olga"])
      }),
      { store: racing }
    )
    expect(injected).toBe(true)
  })

  it("gives up with ConcurrencyConflict when the stream never settles", async () => {
    const inner = makeInMemoryEventStore()
    const hostile: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        stream === "space-a" && expected !== "no_stream"
          ? Effect.fail(new WrongExpectedVersion({ stream, expected, actual: 99 }))
          : inner.append(stream, events, expected)
    }
    const outcome = await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"))
        return yield* Effect.either(
          spaces.execute({ _tag: "SetCaptions", spaceId: s("a"), by: u("hana"), captions: true })
        )
      }),
      { store: hostile }
    )
    expect(Either.isLeft(outcome) && outcome.left).toMatchObject({
      _tag: "ConcurrencyConflict",
      stream: "space-a"
    })
  })

  it("reports a stored event that does not fit its schema as MalformedEvent naming stream and revision", async () => {
    const store = makeInMemoryEventStore()
    await Effect.runPromise(
      store.append(
        "space-a",
        [
          {
            id: "bad",
            type: "SpaceCreated",
            data: { _tag: "SpaceCreated", title: 42 },
            metadata: { recordedAt: 0 }
          }
        ],
        "no_stream"
      )
    )
    const outcome = await run(
      Effect.gen(function* () {
        return yield* Effect.either((yield* Spaces).execute(join("a", "lee")))
      }),
      { store }
    )
    expect(Either.isLeft(outcome) && outcome.left).toMatchObject({
      _tag: "MalformedEvent",
      stream: "space-a",
      revision: 0
    })
  })
})

describe("presence across Spaces", () => {
  it("joining another Space leaves the first, records the move, then admits (in that order)", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"), create("b", "bob"), join("a", "lee"))
        yield* spaces.execute(join("b", "lee"))
        expect(HashMap.has((yield* spaces.space(s("a"))).participants, u("lee"))).toBe(false)
        expect(HashMap.has((yield* spaces.space(s("b"))).participants, u("lee"))).toBe(true)
        const log = yield* Stream.runCollect((yield* EventStore).readAll(0))
        const moves = [...log].filter(
          (e) => e.streamId === "user-lee" || e.type === "ParticipantLeft" || e.type === "ListenerJoined"
        )
        expect(moves.map((e) => `${e.streamId}:${e.type}`)).toEqual([
          "user-lee:SpaceEntered",
          "space-a:ListenerJoined",
          "space-a:ParticipantLeft",
          "user-lee:SpaceEntered",
          "space-b:ListenerJoined"
        ])
        expect((yield* spaces.user(u("lee"))).presence).toBe("b")
      })
    )
  })

  it("a host who joins another Space leaves theirs, which goes into its grace period", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"), create("b", "bob"))
        yield* spaces.execute(join("b", "hana"))
        const a = yield* spaces.space(s("a"))
        expect(a.status).toBe("live")
        expect(a.hostAway).not.toBeNull()
      })
    )
  })

  it("a user hosts one live Space at a time; a refused start changes nothing", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"), create("b", "bob"))
        yield* spaces.execute(join("b", "hana"))
        const second = yield* Effect.either(spaces.execute(create("c", "hana")))
        expect(Either.isLeft(second) && second.left).toMatchObject({
          _tag: "AlreadyHostingLiveSpace",
          spaceId: "a"
        })
        expect((yield* spaces.space(s("c"))).status).toBe("none")
        expect(HashMap.has((yield* spaces.space(s("b"))).participants, u("hana"))).toBe(true)
        // Scheduling is fine: only live Spaces count.
        yield* spaces.execute(create("d", "hana", Date.now() + 3_600_000))
        // Once the first Space ends, the hosting pointer is stale and blocks nothing.
        yield* spaces.execute({ _tag: "EndSpace", spaceId: s("a"), by: u("hana") })
        yield* spaces.execute(create("c", "hana"))
        expect((yield* spaces.space(s("c"))).status).toBe("live")
        expect(HashMap.has((yield* spaces.space(s("b"))).participants, u("hana"))).toBe(false)
      })
    )
  })

  it("a rejected join moves nobody", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* spacesWith(create("a", "hana"), create("b", "bob"))
        yield* spaces.execute(join("a", "lee"))
        yield* spaces.execute(join("b", "rex"))
        yield* spaces.execute({ _tag: "RemoveParticipant", spaceId: s("b"), by: u("bob"), user: u("rex") })
        yield* spaces.execute(join("a", "rex"))
        const banned = yield* Effect.either(spaces.execute(join("b", "rex")))
        expect(Either.isLeft(banned) && banned.left._tag).toBe("BannedFromSpace")
        expect(HashMap.has((yield* spaces.space(s("a"))).participants, u("rex"))).toBe(true)
      })
    )
  })
})

describe("follows and policies", () => {
  it("the user stream keeps the same rule: a key reused for another follow command is refused", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        const follow = { _tag: "Follow" as const, by: u("lee"), user: u("hana") }
        const first = yield* spaces.executeUser(follow, { idempotencyKey: "f1" })
        expect(yield* spaces.executeUser(follow, { idempotencyKey: "f1" })).toEqual({
          ...first,
          replayed: true
        })
        const reused = yield* Effect.either(
          spaces.executeUser({ _tag: "Unfollow", by: u("lee"), user: u("hana") }, { idempotencyKey: "f1" })
        )
        expect(Either.isLeft(reused) && reused.left._tag).toBe("IdempotencyKeyReused")
        expect([...(yield* spaces.user(u("lee"))).follows]).toEqual([u("hana")])
      })
    )
  })

  it("follow is idempotent; nobody follows themselves", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        const first = yield* spaces.executeUser({ _tag: "Follow", by: u("lee"), user: u("hana") })
        const again = yield* spaces.executeUser({ _tag: "Follow", by: u("lee"), user: u("hana") })
        expect(first.events).toHaveLength(1)
        expect(again.events).toHaveLength(0)
        const self = yield* Effect.either(
          spaces.executeUser({ _tag: "Follow", by: u("lee"), user: u("lee") })
        )
        expect(Either.isLeft(self) && self.left._tag).toBe("CannotFollowSelf")
        yield* spaces.executeUser({ _tag: "Unfollow", by: u("lee"), user: u("hana") })
        expect([...(yield* spaces.user(u("lee"))).follows]).toEqual([])
      })
    )
  })

  it("the 'followed' speak policy asks whom the host follows", async () => {
    await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute({ ...create("a", "hana"), speakPolicy: "followed" })
        yield* spaces.execute(join("a", "lee"))
        yield* spaces.execute(join("a", "olga"))
        yield* spaces.executeUser({ _tag: "Follow", by: u("hana"), user: u("lee") })
        yield* spaces.execute({ _tag: "RaiseHand", spaceId: s("a"), by: u("lee") })
        const refused = yield* Effect.either(
          spaces.execute({ _tag: "RaiseHand", spaceId: s("a"), by: u("olga") })
        )
        expect(Either.isLeft(refused) && refused.left._tag).toBe("SpeakRequestsNotAllowed")
      })
    )
  })

  it("the hosting policy can require followers (the historical gate)", async () => {
    const rules = { ...defaultRoomRules, minFollowersToHost: 2 }
    await run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        const refused = yield* Effect.either(spaces.execute(create("a", "hana")))
        expect(Either.isLeft(refused) && refused.left).toMatchObject({
          _tag: "HostingNotAllowed",
          followers: 0,
          minFollowers: 2
        })
        yield* spaces.executeUser({ _tag: "Follow", by: u("lee"), user: u("hana") })
        yield* spaces.executeUser({ _tag: "Follow", by: u("olga"), user: u("hana") })
        yield* spaces.execute(create("a", "hana"))
      }),
      { rules }
    )
  })
})
