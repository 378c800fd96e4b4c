import { EventStore, makeInMemoryEventStore } from "@spaces/domain"
import { Effect, Fiber, type Scope, TestContext } from "effect"
import { describe, expect, it } from "vitest"
import { makeReadModels } from "./ReadModelsLive.js"
import { makeMemoryStorage } from "./store/MemoryStorage.js"
import { spaceCreatedData } from "./testing/rawEvents.js"

const at = Date.UTC(2026, 0, 1)
const meta = { recordedAt: at }
const created = spaceCreatedData("a", at)

/**
 * Under the TestClock, whose time never moves here: a wait that slept between polls would never
 * wake, so these tests also show that waits wake on the runners' progress.
 */
const runTest = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(TestContext.TestContext)))

describe("read-your-writes waits", () => {
  it("a stopped projection holds back only the views that read it", () =>
    runTest(
      Effect.gen(function* () {
        const store = makeInMemoryEventStore()
        yield* store.append(
          "space-a",
          [{ id: "1", type: "SpaceCreated", data: created, metadata: meta }],
          "any"
        )
        // Only the feed reads follows: this malformed one stops the feed runner at position 1.
        yield* store.append(
          "user-u1",
          [{ id: "2", type: "UserFollowed", data: { _tag: "UserFollowed", user: "u1" }, metadata: meta }],
          "any"
        )
        const readModels = yield* makeReadModels(makeMemoryStorage()).pipe(
          Effect.provideService(EventStore, store)
        )
        const stopped = yield* readModels.awaitPosition("feed", 2)
        expect(stopped).toBe(false)
        expect(yield* readModels.positionOf("feed")).toBe(1)

        // A room wait for a position not written yet: it wakes when the rooms runner applies it.
        const waiting = yield* Effect.fork(readModels.awaitPosition("room", 3))
        yield* store.append(
          "space-a",
          [
            {
              id: "3",
              type: "SpaceStarted",
              data: { _tag: "SpaceStarted", spaceId: "a", at, host: "hana" },
              metadata: meta
            }
          ],
          "any"
        )
        expect(yield* Fiber.join(waiting)).toBe(true)
        expect(yield* readModels.positionOf("room")).toBe(3)
        expect(yield* readModels.awaitPosition("topic", 3)).toBe(true)
        // The feed (rooms and the stopped feed projection) and the whole stay where the feed stopped.
        expect(yield* readModels.positionOf("feed")).toBe(1)
        expect(yield* readModels.position).toBe(1)
      })
    ))

  it("answers at once when the view already includes the position", () =>
    runTest(
      Effect.gen(function* () {
        const store = makeInMemoryEventStore()
        const readModels = yield* makeReadModels(makeMemoryStorage()).pipe(
          Effect.provideService(EventStore, store)
        )
        expect(yield* readModels.awaitPosition("due", 0)).toBe(true)
      })
    ))
})
