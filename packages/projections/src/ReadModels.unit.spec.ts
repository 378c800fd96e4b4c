import { EventStore, type EventStoreShape, makeInMemoryEventStore, type RecordedEvent } from "@spaces/domain"
import { Chunk, Clock, Effect, type Scope, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeReadModels, projections, queriesOf } from "./ReadModelsLive.js"
import { rebuildProjections } from "./runner/rebuild.js"
import { makeMemoryStorage } from "./store/MemoryStorage.js"
import { snapshot, referenceSnapshot } from "./testing/compare.js"
import { checkHistories, type Step, stepArb, writeHistory } from "./testing/history.js"
import { defaultRoomRules } from "@spaces/domain"

const history = fc.array(stepArb, { minLength: 40, maxLength: 200, size: "max" })

const waitUntil = (position: Effect.Effect<number>, target: number) =>
  Effect.gen(function* () {
    while ((yield* position) < target) yield* Effect.yieldNow()
  })

/** Runs `steps` on a fresh in-memory store while `store` → read models run live; answers the log. */
const live = (
  steps: ReadonlyArray<Step>,
  wrap: (store: EventStoreShape) => EventStoreShape,
  threshold: number
) =>
  Effect.gen(function* () {
    const store = makeInMemoryEventStore()
    const readModels = yield* makeReadModels(makeMemoryStorage(), { fanOutThreshold: threshold }).pipe(
      Effect.provideService(EventStore, wrap(store))
    )
    const log: ReadonlyArray<RecordedEvent> = yield* writeHistory(steps, store)
    yield* waitUntil(readModels.position, log.at(-1)?.position ?? 0)
    return { store, log, readModels, now: yield* Clock.currentTimeMillis }
  })

/** The read models from scratch: every projection dropped and replayed over the whole log. */
const rebuilt = (store: EventStoreShape, threshold: number) =>
  Effect.gen(function* () {
    const storage = makeMemoryStorage()
    yield* rebuildProjections(store, storage, projections({ fanOutThreshold: threshold }))
    return queriesOf(storage, defaultRoomRules)
  })

const check = (property: (steps: ReadonlyArray<Step>) => Effect.Effect<void, unknown, Scope.Scope>) =>
  checkHistories(history, property)

describe("read models", () => {
  it("maintained incrementally equal the rebuild from scratch and the brute-force reference", () =>
    check((steps) =>
      Effect.gen(function* () {
        // Threshold 2: both fan-out paths (pushed and pulled presences) are exercised by small worlds.
        const { store, log, readModels, now } = yield* live(steps, (s) => s, 2)
        const incremental = yield* snapshot(readModels, now)
        const fromScratch = yield* snapshot(yield* rebuilt(store, 1_000), now)
        expect(incremental).toStrictEqual(fromScratch)
        const sorted = yield* snapshot(readModels, now, { sortInvitations: true })
        expect(sorted).toStrictEqual(yield* referenceSnapshot(log, now))
      })
    ))

  it("delivering any event twice (in a batch and again in a later batch) changes nothing", () =>
    check((steps) =>
      Effect.gen(function* () {
        const twice = (store: EventStoreShape): EventStoreShape => ({
          ...store,
          subscribeAll: (from) =>
            store.subscribeAll(from).pipe(
              Stream.mapChunks((chunk) =>
                Chunk.appendAll(
                  Chunk.flatMap(chunk, (e) => Chunk.make(e, e)),
                  chunk
                )
              )
            )
        })
        const { store, readModels, now } = yield* live(steps, twice, 2)
        expect(yield* snapshot(readModels, now)).toStrictEqual(yield* snapshot(yield* rebuilt(store, 2), now))
      })
    ))
})
