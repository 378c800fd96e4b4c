import { randomUUID } from "node:crypto"
import { it } from "@effect/vitest"
import type { EventData, EventStoreShape, ExpectedRevision, RecordedEvent } from "@spaces/domain"
import { WrongExpectedVersion } from "@spaces/domain"
import { Chunk, Effect, Either, Fiber, type Scope, Stream } from "effect"
import { expect } from "vitest"

/**
 * Opens a store for one test. It may be shared with other tests (EventStoreDB cannot be emptied), so
 * the suite writes only to fresh stream names and reads the global log from a marker it appended.
 */
export type StoreFactory = Effect.Effect<EventStoreShape, unknown, Scope.Scope>

/** Guards tests that wait for live events; not a timing assertion: a broken store fails, not hangs. */
const GUARD = "10 seconds"

export const event = (type = "Tested", data: unknown = { n: 0 }): EventData => ({
  id: randomUUID(),
  type,
  data,
  metadata: { recordedAt: 1_700_000_000_000, correlationId: "contract" }
})

const events = (n: number, type = "Tested") => Array.from({ length: n }, (_, i) => event(type, { n: i }))

const freshStream = (kind = "contract") => `${kind}-${randomUUID()}`

/** Appends to a marker stream: every event committed afterwards has a greater position. */
const mark = (store: EventStoreShape) =>
  Effect.map(store.append(freshStream("marker"), [event("Marked")], "any"), (r) => r.position)

const readAllAfter = (store: EventStoreShape, from: number, streams: ReadonlyArray<string>) =>
  store.readAll(from).pipe(
    Stream.filter((e) => streams.includes(e.streamId)),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray)
  )

const conflictOf = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.flip(effect), (error) =>
    error instanceof WrongExpectedVersion ? Effect.succeed(error) : Effect.die(error)
  )

const expectIncreasing = (recorded: ReadonlyArray<RecordedEvent>) => {
  for (let i = 1; i < recorded.length; i++) {
    expect(recorded[i]!.position).toBeGreaterThan(recorded[i - 1]!.position)
  }
}

export interface ContractOptions {
  /** The store has `appendMany` (multi-stream atomic appends): its tests run too. */
  readonly multiStream?: boolean
}

/** Registers the event store contract's tests in the surrounding `describe`. */
export const eventStoreContract = (open: StoreFactory, options: ContractOptions = {}) => {
  const test = (
    name: string,
    body: (store: EventStoreShape) => Effect.Effect<void, unknown>,
    timeout?: number
  ) => it.scopedLive(name, () => Effect.flatMap(open, body), timeout)

  test("no_stream: creates the stream with revisions from 0 and positions above 0", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const result = yield* store.append(stream, events(3), "no_stream")
      expect(result.nextRevision).toBe(2)
      const read = yield* store.readStream(stream)
      expect(read.map((e) => e.revision)).toEqual([0, 1, 2])
      expect(read.every((e) => e.streamId === stream && e.position > 0)).toBe(true)
      expect(read.at(-1)!.position).toBe(result.position)
      expectIncreasing(read)
    }))

  test("no_stream: refused when the stream exists, with its actual revision", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, events(2), "no_stream")
      const conflict = yield* conflictOf(store.append(stream, events(1), "no_stream"))
      expect(conflict).toMatchObject({ stream, expected: "no_stream", actual: 1 })
      expect(yield* store.readStream(stream)).toHaveLength(2)
    }))

  test("stream_exists: appends to an existing stream", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, events(1), "no_stream")
      const result = yield* store.append(stream, events(2), "stream_exists")
      expect(result.nextRevision).toBe(2)
    }))

  test("stream_exists: refused on an absent stream with actual no_stream", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const conflict = yield* conflictOf(store.append(stream, events(1), "stream_exists"))
      expect(conflict).toMatchObject({ stream, expected: "stream_exists", actual: "no_stream" })
      expect(yield* store.readStream(stream)).toEqual([])
    }))

  test("exact revision: appends when the stream is at that revision", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, events(2), "no_stream")
      const result = yield* store.append(stream, events(3), 1)
      expect(result.nextRevision).toBe(4)
      expect((yield* store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3, 4])
    }))

  test("exact revision: refused when stale, with the actual revision", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, events(3), "no_stream")
      const conflict = yield* conflictOf(store.append(stream, events(1), 0))
      expect(conflict).toMatchObject({ stream, expected: 0, actual: 2 })
      const ahead = yield* conflictOf(store.append(stream, events(1), 7))
      expect(ahead).toMatchObject({ expected: 7, actual: 2 })
    }))

  test("exact revision on an absent stream: the no-stream conflict (actual no_stream)", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const conflict = yield* conflictOf(store.append(stream, events(1), 0))
      expect(conflict).toMatchObject({ stream, expected: 0, actual: "no_stream" })
      expect(conflict.message).toContain("no_stream")
    }))

  test("any: appends to an absent and to an existing stream", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      expect((yield* store.append(stream, events(1), "any")).nextRevision).toBe(0)
      expect((yield* store.append(stream, events(2), "any")).nextRevision).toBe(2)
    }))

  test("a refused append writes nothing, in any mode", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const before = yield* mark(store)
      const refused: ReadonlyArray<ExpectedRevision> = ["stream_exists", 3]
      for (const expected of refused) yield* conflictOf(store.append(stream, events(2), expected))
      expect(yield* readAllAfter(store, before, [stream])).toEqual([])
    }))

  test("readStream: fromRevision, past the end, and absent streams", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      expect(yield* store.readStream(stream)).toEqual([])
      expect(yield* store.readStream(stream, { fromRevision: 3 })).toEqual([])
      const written = events(5)
      yield* store.append(stream, written, "no_stream")
      const tail = yield* store.readStream(stream, { fromRevision: 3 })
      expect(tail.map((e) => [e.revision, e.id])).toEqual([
        [3, written[3]!.id],
        [4, written[4]!.id]
      ])
      expect(yield* store.readStream(stream, { fromRevision: 5 })).toEqual([])
    }))

  test("events round-trip: id, type, data and metadata as appended", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const written = event("RoundTripped", { text: "é ✓ \u0000", nested: { list: [1, null, true] } })
      yield* store.append(stream, [written], "no_stream")
      const [read] = yield* store.readStream(stream)
      expect(read).toMatchObject({ ...written, streamId: stream, revision: 0 })
    }))

  test("readAll: every event after `from` in commit order across streams", (store) =>
    Effect.gen(function* () {
      const before = yield* mark(store)
      const a = freshStream()
      const b = freshStream()
      const order = [
        { stream: a, batch: events(2) },
        { stream: b, batch: events(1) },
        { stream: a, batch: events(3) },
        { stream: b, batch: events(2) }
      ]
      for (const { stream, batch } of order) yield* store.append(stream, batch, "any")
      const all = yield* readAllAfter(store, before, [a, b])
      expect(all.map((e) => e.id)).toEqual(order.flatMap(({ batch }) => batch.map((e) => e.id)))
      expectIncreasing(all)
      expect(all.every((e) => e.position > before)).toBe(true)
      const streamA = yield* store.readStream(a)
      expect(streamA.map((e) => e.position)).toEqual(
        all.filter((e) => e.streamId === a).map((e) => e.position)
      )
    }))

  test("readAll: `from` is exclusive", (store) =>
    Effect.gen(function* () {
      const before = yield* mark(store)
      const stream = freshStream()
      yield* store.append(stream, events(4), "no_stream")
      const all = yield* readAllAfter(store, before, [stream])
      const second = all[1]!
      const after = yield* readAllAfter(store, second.position, [stream])
      expect(after.map((e) => e.revision)).toEqual([2, 3])
      const end = yield* store.readAll(all.at(-1)!.position).pipe(Stream.runCollect)
      expect(Chunk.toReadonlyArray(end).filter((e) => e.streamId === stream)).toEqual([])
    }))

  test("head, where a store has it: the position of the log's last event", (store) =>
    Effect.gen(function* () {
      if (store.head === undefined) return
      const stream = freshStream()
      const { position } = yield* store.append(stream, events(3), "no_stream")
      // The stores that have `head` (SQLite, memory) are fresh per test: ours is the last event.
      expect(yield* store.head()).toBe(position)
      const tail = yield* store.readAll(position - 1).pipe(Stream.runCollect)
      expect(Chunk.toReadonlyArray(tail).map((e) => e.position)).toEqual([position])
    }))

  test("subscribeAll: catches up from `from` (exclusive), then delivers live commits in order", (store) =>
    Effect.gen(function* () {
      const before = yield* mark(store)
      const stream = freshStream()
      const first = events(3)
      yield* store.append(stream, first, "no_stream")
      const [, second] = yield* readAllAfter(store, before, [stream])
      const subscriber = yield* store.subscribeAll(second!.position).pipe(
        Stream.filter((e) => e.streamId === stream),
        Stream.take(4),
        Stream.runCollect,
        Effect.timeoutFail({ duration: GUARD, onTimeout: () => "subscription stalled" }),
        Effect.fork
      )
      const live = events(3)
      yield* store.append(stream, live.slice(0, 1), 2)
      yield* Effect.sleep("20 millis")
      yield* store.append(stream, live.slice(1), 3)
      const got = Chunk.toReadonlyArray(yield* Fiber.join(subscriber))
      expect(got.map((e) => e.id)).toEqual([first[2]!.id, ...live.map((e) => e.id)])
      expect(got.map((e) => e.revision)).toEqual([2, 3, 4, 5])
      expectIncreasing(got)
    }))

  test("subscribeAll: a subscriber waiting at the end wakes on the next commit", (store) =>
    Effect.gen(function* () {
      const end = yield* mark(store)
      const stream = freshStream()
      const subscriber = yield* store.subscribeAll(end).pipe(
        Stream.filter((e) => e.streamId === stream),
        Stream.take(1),
        Stream.runCollect,
        Effect.timeoutFail({ duration: GUARD, onTimeout: () => "subscription stalled" }),
        Effect.fork
      )
      yield* Effect.sleep("50 millis")
      const written = event()
      yield* store.append(stream, [written], "no_stream")
      const got = Chunk.toReadonlyArray(yield* Fiber.join(subscriber))
      expect(got.map((e) => e.id)).toEqual([written.id])
    }))

  test("idempotent re-append: the same ids return the original result and write nothing", (store) =>
    Effect.gen(function* () {
      const before = yield* mark(store)
      const stream = freshStream()
      const batch = events(3)
      const original = yield* store.append(stream, batch, "no_stream")
      expect(yield* store.append(stream, batch, "no_stream")).toEqual(original)
      expect(yield* store.append(stream, batch, "any")).toEqual(original)
      expect(yield* store.append(stream, batch.slice(2), 1)).toEqual(original)
      expect(yield* store.readStream(stream)).toHaveLength(3)
      expect(yield* readAllAfter(store, before, [stream])).toHaveLength(3)
      // New events after the retry still go on at the right revision.
      expect((yield* store.append(stream, events(1), 2)).nextRevision).toBe(3)
    }))

  test(
    "a batch of 10,000 events is appended atomically in one call",
    (store) =>
      Effect.gen(function* () {
        const before = yield* mark(store)
        const stream = freshStream()
        const batch = events(10_000)
        const result = yield* store.append(stream, batch, "no_stream")
        expect(result.nextRevision).toBe(9_999)
        const read = yield* store.readStream(stream)
        expect(read).toHaveLength(10_000)
        expect(read.every((e, i) => e.revision === i && e.id === batch[i]!.id)).toBe(true)
        expectIncreasing(read)
        expect(read.at(-1)!.position).toBe(result.position)
        const all = yield* readAllAfter(store, before, [stream])
        expect(all.map((e) => e.id)).toEqual(batch.map((e) => e.id))
      }),
    60_000
  )

  test("concurrent appenders to one stream: exactly one winner per revision", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, [event()], "no_stream")
      for (let revision = 0; revision < 5; revision++) {
        const attempts = yield* Effect.all(
          Array.from({ length: 8 }, () => Effect.either(store.append(stream, events(2), revision * 2))),
          { concurrency: "unbounded" }
        )
        const winners = attempts.filter(Either.isRight)
        const losers = attempts.filter(Either.isLeft)
        expect(winners).toHaveLength(1)
        expect(losers).toHaveLength(7)
        for (const loser of losers) {
          expect(loser.left).toBeInstanceOf(WrongExpectedVersion)
          expect(loser.left).toMatchObject({ expected: revision * 2, actual: revision * 2 + 2 })
        }
      }
      const read = yield* store.readStream(stream)
      expect(read.map((e) => e.revision)).toEqual(Array.from({ length: 11 }, (_, i) => i))
    }))

  test("concurrent appenders with no_stream: exactly one creates the stream", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      const attempts = yield* Effect.all(
        Array.from({ length: 8 }, () => Effect.either(store.append(stream, events(1), "no_stream"))),
        { concurrency: "unbounded" }
      )
      expect(attempts.filter(Either.isRight)).toHaveLength(1)
      expect(yield* store.readStream(stream)).toHaveLength(1)
    }))

  test("an empty append changes nothing", (store) =>
    Effect.gen(function* () {
      const stream = freshStream()
      yield* store.append(stream, events(1), "no_stream")
      const result = yield* store.append(stream, [], "any")
      expect(result.nextRevision).toBe(0)
      expect(yield* store.readStream(stream)).toHaveLength(1)
    }))

  if (options.multiStream !== true) return

  /** The store's multi-stream append (present: the suite was told so). */
  const many = (store: EventStoreShape) => {
    if (store.appendMany === undefined) throw new Error("this store has no appendMany")
    return store.appendMany
  }

  test("appendMany: every stream appended, in the order given, one result each", (store) =>
    Effect.gen(function* () {
      const [a, b, c] = [freshStream(), freshStream(), freshStream()]
      yield* store.append(b, events(2), "no_stream")
      const from = yield* mark(store)
      const results = yield* many(store)([
        { stream: a, events: events(1), expected: "no_stream" },
        { stream: b, events: events(2), expected: 1 },
        { stream: c, events: events(1), expected: "any" }
      ])
      expect(results.map((r) => r.nextRevision)).toEqual([0, 3, 0])
      const logged = yield* readAllAfter(store, from, [a, b, c])
      expect(logged.map((e) => `${e.streamId}@${e.revision}`)).toEqual([
        `${a}@0`,
        `${b}@2`,
        `${b}@3`,
        `${c}@0`
      ])
      expectIncreasing(logged)
      expect(results.map((r) => r.position)).toEqual([
        logged[0]!.position,
        logged[2]!.position,
        logged[3]!.position
      ])
    }))

  test("appendMany: one stale stream refuses them all and nothing is written", (store) =>
    Effect.gen(function* () {
      const [a, b] = [freshStream(), freshStream()]
      yield* store.append(b, events(2), "no_stream")
      const conflict = yield* conflictOf(
        many(store)([
          { stream: a, events: events(1), expected: "no_stream" },
          { stream: b, events: events(1), expected: 0 }
        ])
      )
      expect(conflict).toMatchObject({ stream: b, expected: 0, actual: 1 })
      expect(yield* store.readStream(a)).toHaveLength(0)
      expect(yield* store.readStream(b)).toHaveLength(2)
    }))

  test("appendMany: a refused one leaves appends made at the same moment in place", (store) =>
    Effect.gen(function* () {
      const [a, b, alone] = [freshStream(), freshStream(), freshStream()]
      yield* store.append(b, events(1), "no_stream")
      const [refused, appended] = yield* Effect.all(
        [
          Effect.either(
            many(store)([
              { stream: a, events: events(1), expected: "no_stream" },
              { stream: b, events: events(1), expected: "no_stream" }
            ])
          ),
          store.append(alone, events(1), "no_stream")
        ],
        { concurrency: "unbounded" }
      )
      expect(Either.isLeft(refused) && refused.left).toBeInstanceOf(WrongExpectedVersion)
      expect(appended.nextRevision).toBe(0)
      expect(yield* store.readStream(a)).toHaveLength(0)
      expect(yield* store.readStream(alone)).toHaveLength(1)
    }))

  test("appendMany: concurrent with single appends to its streams, all or none of it is written", (store) =>
    Effect.gen(function* () {
      const [a, b] = [freshStream(), freshStream()]
      const outcomes = yield* Effect.all(
        [
          Effect.either(
            many(store)([
              { stream: a, events: events(1), expected: "no_stream" },
              { stream: b, events: events(1), expected: "no_stream" }
            ])
          ),
          Effect.either(store.append(b, events(1), "no_stream"))
        ],
        { concurrency: "unbounded" }
      )
      const [together, single] = outcomes
      // Exactly one of them created b; a was written only if the multi-stream append won.
      expect([Either.isRight(together), Either.isRight(single)].filter(Boolean)).toHaveLength(1)
      expect(yield* store.readStream(a)).toHaveLength(Either.isRight(together) ? 1 : 0)
      expect(yield* store.readStream(b)).toHaveLength(1)
    }))
}
