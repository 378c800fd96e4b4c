import { it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Queue, Stream } from "effect"
import { describe, expect } from "vitest"
import type { EventData, EventStoreShape, RecordedEvent } from "./EventStore.js"
import { EventStoreUnavailable, MalformedEvent } from "./EventStoreError.js"
import { makeInMemoryEventStore } from "./InMemoryEventStore.js"
import { makeLogFollower } from "./LogFollower.js"

const event = (n: number): EventData => ({
  id: `e${n}`,
  type: "Noted",
  data: { n },
  metadata: { recordedAt: n }
})
const appendN = (store: EventStoreShape, first: number, count: number) =>
  Effect.forEach(
    Array.from({ length: count }, (_, i) => first + i),
    (n) => store.append(`note-${n % 7}`, [event(n)], "any"),
    { discard: true }
  )

/** The store, counting the subscriptions and reads it is asked for. */
const counted = (store: EventStoreShape) => {
  const calls = { subscribeAll: 0, readAll: 0 }
  const wrapped: EventStoreShape = {
    ...store,
    readAll: (from) => {
      calls.readAll++
      return store.readAll(from)
    },
    subscribeAll: (from) => {
      calls.subscribeAll++
      return store.subscribeAll(from)
    }
  }
  return { store: wrapped, calls }
}

const positions = (events: Chunk.Chunk<RecordedEvent>) => Chunk.toReadonlyArray(events).map((e) => e.position)
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + 1 + i)

describe("the log follower", () => {
  it.scoped(
    "feeds consumers at any position from one subscription: each gets every event after its own position, in order, once",
    () =>
      Effect.gen(function* () {
        const { store, calls } = counted(makeInMemoryEventStore())
        yield* appendN(store, 1, 300)
        const follower = yield* makeLogFollower(store)
        const take = (from: number, n: number) =>
          Effect.fork(Stream.runCollect(Stream.take(follower.from(from), n)))
        // A consumer far behind (a rebuild), one midway, one at the end, and a live stream.
        const behind = yield* take(0, 600)
        const midway = yield* take(150, 450)
        const atEnd = yield* take(300, 300)
        yield* follower.known
        const live = yield* follower.live
        // Appends while they catch up and after.
        yield* appendN(store, 301, 150)
        yield* Effect.yieldNow().pipe(Effect.repeatN(20))
        yield* appendN(store, 451, 150)
        expect(positions(yield* Fiber.join(behind))).toEqual(range(0, 600))
        expect(positions(yield* Fiber.join(midway))).toEqual(range(150, 600))
        expect(positions(yield* Fiber.join(atEnd))).toEqual(range(300, 600))
        expect(positions(yield* Queue.takeN(live, 300))).toEqual(range(300, 600))
        // One subscription to the store for all of them; the consumers behind read pages directly.
        expect(calls.subscribeAll).toBe(1)
        expect(follower.head()).toMatchObject({ position: 600, known: true })
      })
  )

  it.live("retries a store outage under its one policy: consumers get everything, from where they were", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const inner = makeInMemoryEventStore()
        yield* appendN(inner, 1, 50)
        let failures = 4
        const outage = <A>(stream: Stream.Stream<A, EventStoreUnavailable | MalformedEvent>) =>
          Stream.suspend(() =>
            failures-- > 0 ? Stream.fail(new EventStoreUnavailable({ reason: "connection refused" })) : stream
          )
        const flaky: EventStoreShape = {
          ...inner,
          readAll: (from) => outage(inner.readAll(from)),
          subscribeAll: (from) => outage(inner.subscribeAll(from))
        }
        const follower = yield* makeLogFollower(flaky)
        const consumer = yield* Effect.fork(Stream.runCollect(Stream.take(follower.from(10), 90)))
        yield* appendN(inner, 51, 50)
        expect(positions(yield* Fiber.join(consumer))).toEqual(range(10, 100))
        expect(failures).toBeLessThan(0)
      })
    )
  )

  it.live(
    "a malformed event: `from` fails with it (a runner stops there); `follow` waits and goes on once the log is corrected",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const inner = makeInMemoryEventStore()
          yield* appendN(inner, 1, 20)
          // The event at position 21 cannot be parsed until `corrected`.
          let corrected = false
          const malformed = new MalformedEvent({
            stream: "note-0",
            revision: 3,
            type: "Noted",
            reason: "bad JSON"
          })
          const upTo = (stream: Stream.Stream<RecordedEvent, EventStoreUnavailable | MalformedEvent>) =>
            stream.pipe(
              Stream.mapEffect((e) =>
                e.position === 21 && !corrected ? Effect.fail(malformed) : Effect.succeed(e)
              )
            )
          const bad: EventStoreShape = {
            ...inner,
            readAll: (from) => upTo(inner.readAll(from)),
            subscribeAll: (from) => upTo(inner.subscribeAll(from))
          }
          const follower = yield* makeLogFollower(bad)
          const strict = yield* Effect.fork(Stream.runCollect(follower.from(0)).pipe(Effect.flip))
          const patient = yield* Effect.fork(Stream.runCollect(Stream.take(follower.follow(0), 25)))
          yield* appendN(inner, 21, 5)
          expect((yield* Fiber.join(strict))._tag).toBe("MalformedEvent")
          corrected = true
          expect(positions(yield* Fiber.join(patient))).toEqual(range(0, 25))
        })
      ),
    20_000
  )
})
