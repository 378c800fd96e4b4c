import { Context, Effect, Either, HashMap, Layer, Schema, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { EventStore, type EventStoreShape } from "../eventstore/EventStore.js"
import { SpaceId, UserId } from "../ids.js"
import { spacesOn } from "../layers.js"
import { evolve } from "../space/evolve.js"
import { SpaceEvent } from "../space/SpaceEvent.js"
import { initialSpaceState, type SpaceState } from "../space/SpaceState.js"
import { interleaving, oneStreamAtATime } from "../testing/stores.js"
import { Spaces, type SpacesShape } from "./Spaces.js"

const u = (name: string) => UserId.make(name)
const s = (name: string) => SpaceId.make(name)

/** Counts the optimistic-concurrency conflicts, to prove the test really raced. */
const countingConflicts = (store: EventStoreShape) => {
  const counter = { conflicts: 0 }
  const wrapped: EventStoreShape = {
    ...store,
    append: (stream, events, expected) =>
      store
        .append(stream, events, expected)
        .pipe(Effect.tapError(() => Effect.sync(() => counter.conflicts++))),
    ...(store.appendMany === undefined
      ? {}
      : {
          appendMany: (appends) =>
            store.appendMany!(appends).pipe(Effect.tapError(() => Effect.sync(() => counter.conflicts++)))
        })
  }
  return { counter, wrapped }
}

const create = (spaceId: string, by: string) => ({
  _tag: "CreateSpace" as const,
  spaceId: s(spaceId),
  by: u(by),
  title: "Busy room",
  topics: [],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false
})

const world = (store: EventStoreShape) => spacesOn(Layer.succeed(EventStore, store))

describe("many fibers, one Space", () => {
  it("concurrent joins, hands and approvals lose no update and break no limit", async () => {
    const { counter, wrapped } = countingConflicts(interleaving())
    const listeners = Array.from({ length: 60 }, (_, i) => u(`l${i}`))
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute(create("a", "hana"))
        yield* Effect.forEach(listeners, (by) => spaces.execute({ _tag: "JoinSpace", spaceId: s("a"), by }), {
          concurrency: "unbounded"
        })
        yield* Effect.forEach(
          listeners.slice(0, 30),
          (by) => spaces.execute({ _tag: "RaiseHand", spaceId: s("a"), by }),
          {
            concurrency: "unbounded"
          }
        )
        const approvals = yield* Effect.forEach(
          listeners.slice(0, 30),
          (user) =>
            Effect.either(
              spaces.execute({ _tag: "ApproveSpeakRequest", spaceId: s("a"), by: u("hana"), user })
            ),
          { concurrency: "unbounded" }
        )
        const state = yield* spaces.space(s("a"))
        const log = yield* (yield* EventStore).readStream("space-a")
        return { approvals, state, log }
      }).pipe(Effect.provide(world(wrapped)))
    )
    expect(counter.conflicts).toBeGreaterThan(0) // the fibers really raced
    const accepted = result.approvals.filter(Either.isRight)
    const refused = result.approvals.filter(Either.isLeft).map((e) => e.left._tag)
    expect(accepted).toHaveLength(12) // the host holds the 13th seat
    expect(new Set(refused)).toEqual(new Set(["SpeakerLimitReached"]))
    expect(result.state.counts).toEqual({ cohosts: 0, speakers: 13, listeners: 48 })
    expect(result.state.raisedHands).toHaveLength(18) // refused requests stay pending
    for (const listener of listeners) expect(HashMap.has(result.state.participants, listener)).toBe(true)
    const folded = result.log.reduce(
      (state, r) => evolve(state, Schema.decodeUnknownSync(SpaceEvent)(r.data)),
      initialSpaceState
    )
    expect(folded.counts).toEqual(result.state.counts)
    expect(result.log.map((r) => r.revision)).toEqual(result.log.map((_, i) => i))
  })
})

/** The two ways a move can be appended: all three streams at once, or one after the other. */
const STORE_SHAPES = [
  ["each move in one atomic append", (store: EventStoreShape) => store],
  ["one stream at a time", oneStreamAtATime]
] as const

const people = Array.from({ length: 12 }, (_, i) => u(`p${i}`))
const rooms = ["a", "b", "c"]

/**
 * Opens the rooms on the first handler, then every person hops between them, all at once, six
 * times: person i through handler i mod their count (as the nodes' `UserMoves` would order them).
 */
const hopAround = (handlers: ReadonlyArray<SpacesShape>) =>
  Effect.gen(function* () {
    yield* Effect.forEach(rooms, (room, i) => handlers[0]!.execute(create(room, `host${i}`)))
    return yield* Effect.forEach(
      people.flatMap((by, i) =>
        Array.from({ length: 6 }, (_, round) => ({
          by,
          handler: handlers[i % handlers.length]!,
          room: rooms[(i + round) % 3]!
        }))
      ),
      ({ by, handler, room }) => Effect.either(handler.execute({ _tag: "JoinSpace", spaceId: s(room), by })),
      { concurrency: "unbounded" }
    )
  })

describe("many fibers, many Spaces", () => {
  it.each(STORE_SHAPES)(
    "a user is never live in two Spaces at any point of the log (%s)",
    async (_, shape) => {
      const { counter, wrapped } = countingConflicts(shape(interleaving()))
      const log = await Effect.runPromise(
        Effect.gen(function* () {
          // Two handlers on one store, as two server nodes: within one, a move holds the turns of
          // both its Spaces and never conflicts; across the two, moves race and decide again.
          const nodes = [
            Context.get(yield* Layer.build(world(wrapped)), Spaces),
            Context.get(yield* Layer.build(world(wrapped)), Spaces)
          ] as const
          yield* hopAround(nodes)
          return yield* Stream.runCollect(wrapped.readAll(0))
        }).pipe(Effect.scoped)
      )
      expect(counter.conflicts).toBeGreaterThan(0)
      // Replay the global log in commit order and check the rule after every event.
      const states = new Map<string, SpaceState>()
      let checked = 0
      for (const recorded of log) {
        if (!recorded.streamId.startsWith("space-")) continue
        const event = Schema.decodeUnknownSync(SpaceEvent)(recorded.data)
        states.set(recorded.streamId, evolve(states.get(recorded.streamId) ?? initialSpaceState, event))
        for (const person of people) {
          const liveIn = [...states.values()].filter(
            (st) => st.status === "live" && HashMap.has(st.participants, person)
          )
          expect(liveIn.length).toBeLessThanOrEqual(1)
        }
        checked++
      }
      expect(checked).toBeGreaterThan(12 * 6)
      // And everyone ended up somewhere: the last join of each person won.
      const present = people.filter((p) => [...states.values()].some((st) => HashMap.has(st.participants, p)))
      expect(present).toHaveLength(people.length)
    }
  )
})

describe("many fibers, one handler", () => {
  it.each(STORE_SHAPES)("moves between Spaces take turns instead of conflicting (%s)", async (_, shape) => {
    const { counter, wrapped } = countingConflicts(shape(interleaving()))
    const results = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* hopAround([yield* Spaces])
      }).pipe(Effect.provide(world(wrapped)))
    )
    // Each move holds the turns of the Space it enters and of the one it leaves.
    expect(counter.conflicts).toBe(0)
    expect(results.every(Either.isRight)).toBe(true)
  })
})
