import { EventStore, type EventStoreShape, makeInMemoryEventStore, type RecordedEvent } from "@spaces/domain"
import { Effect, type Scope } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeReadModels, projections } from "../ReadModelsLive.js"
import { rebuildProjections } from "../runner/rebuild.js"
import { makeMemoryStorage } from "../store/MemoryStorage.js"
import { checkHistories, propertyRuns, type Step, stepArb, users, writeHistory } from "../testing/history.js"
import { NOTIFICATIONS } from "./notificationsProjection.js"
import { notificationQueries } from "./notificationsQuery.js"

/** Read marks at any id (also ones not yet given out, and backwards), mixed into the histories. */
const markRead: fc.Arbitrary<Step> = fc
  .record({ by: fc.constantFrom(...users), upTo: fc.integer({ min: 0, max: 40 }) })
  .map(({ by, upTo }): Step => ({ kind: "user", command: { _tag: "MarkNotificationsRead", by, upTo } }))
const history = fc.array(fc.oneof({ weight: 9, arbitrary: stepArb }, { weight: 1, arbitrary: markRead }), {
  minLength: 40,
  maxLength: 200,
  size: "max"
})

/** Every user's whole list (one page), as one comparable object. */
const everyone = (queries: ReturnType<typeof notificationQueries>) =>
  Effect.forEach(users, (user) => queries.page(user, { limit: 10_000 }))

const incremental = (steps: ReadonlyArray<Step>, threshold: number) =>
  Effect.gen(function* () {
    const store = makeInMemoryEventStore()
    const models = yield* makeReadModels(makeMemoryStorage(), {
      notifications: { fanOutThreshold: threshold }
    }).pipe(Effect.provideService(EventStore, store))
    const log: ReadonlyArray<RecordedEvent> = yield* writeHistory(steps, store)
    while ((yield* models.positionOf("notifications")) < (log.at(-1)?.position ?? 0)) yield* Effect.yieldNow()
    return { store, lists: yield* everyone(models.notifications) }
  })

const rebuilt = (store: EventStoreShape, threshold: number) =>
  Effect.gen(function* () {
    const storage = makeMemoryStorage()
    yield* rebuildProjections(
      store,
      storage,
      projections({ notifications: { fanOutThreshold: threshold } }).filter((p) => p.name === NOTIFICATIONS)
    )
    return yield* everyone(notificationQueries(storage.projection(NOTIFICATIONS).read))
  })

const check = (property: (steps: ReadonlyArray<Step>) => Effect.Effect<void, unknown, Scope.Scope>) =>
  checkHistories(history, property)

describe("notifications read model", () => {
  it("built incrementally equals a rebuild from the log, with both fan-out paths", async () => {
    let seen = 0
    await check((steps) =>
      Effect.gen(function* () {
        // Threshold 2: most audiences are "large" (streams merged at read), some are fanned out.
        const small = yield* incremental(steps, 2)
        for (const list of small.lists) seen += list.notifications.length
        expect(small.lists).toStrictEqual(yield* rebuilt(small.store, 2))
        // Pure fan-out on write: every audience gets inbox rows.
        const pure = yield* incremental(steps, 1_000_000)
        expect(pure.lists).toStrictEqual(yield* rebuilt(pure.store, 1_000_000))
      })
    )
    // The generated histories do notify people (the property is not about empty lists).
    expect(seen).toBeGreaterThan(propertyRuns)
  })

  it("merged at read equals fanned out on write, for histories where nobody unfollows", () =>
    check((steps) =>
      Effect.gen(function* () {
        // Unfollowing is where they differ by design: a large author's past notifications are
        // listed to current followers only, while delivered rows stay.
        const kept = steps.filter((step) => !(step.kind === "user" && step.command._tag === "Unfollow"))
        const merged = yield* incremental(kept, 1)
        const pure = yield* incremental(kept, 1_000_000)
        expect(merged.lists).toStrictEqual(pure.lists)
      })
    ))

  it("unread counts what is newer than the read mark; pages cover the list once, newest first", () =>
    check((steps) =>
      Effect.gen(function* () {
        const { lists } = yield* incremental(steps, 2)
        for (const list of lists) {
          const ids = list.notifications.map((n) => n.id)
          expect(ids).toStrictEqual([...ids].sort((a, b) => b - a))
          expect(new Set(ids).size).toBe(ids.length)
          expect(list.unread).toBe(list.notifications.filter((n) => n.id > list.readUpTo).length)
          expect(list.notifications.every((n) => n.read === n.id <= list.readUpTo)).toBe(true)
        }
      })
    ))
})
