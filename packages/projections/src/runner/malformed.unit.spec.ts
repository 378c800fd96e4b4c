import { EventStore, makeInMemoryEventStore, SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeReadModels } from "../ReadModelsLive.js"
import { makeMemoryStorage } from "../store/MemoryStorage.js"
import { spaceCreatedData } from "../testing/rawEvents.js"

const meta = { recordedAt: Date.UTC(2026, 0, 1) }
const created = (spaceId: string) => spaceCreatedData(spaceId, meta.recordedAt)

describe("a malformed event", () => {
  it("stops the projections that read its type, with the stream and revision in their status; the others go on", () =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const store = makeInMemoryEventStore()
          yield* store.append(
            "space-a",
            [{ id: "1", type: "SpaceCreated", data: created("a"), metadata: meta }],
            "any"
          )
          yield* store.append(
            "space-b",
            [{ id: "2", type: "SpaceCreated", data: { ...created("b"), title: 42 }, metadata: meta }],
            "any"
          )
          yield* store.append(
            "user-u1",
            [
              {
                id: "3",
                type: "UserFollowed",
                data: { _tag: "UserFollowed", user: "u1", followee: "u2", at: 1 },
                metadata: meta
              }
            ],
            "any"
          )
          const readModels = yield* makeReadModels(makeMemoryStorage()).pipe(
            Effect.provideService(EventStore, store)
          )
          let status = yield* readModels.status
          while (status.some((s) => s.state === "catching-up")) {
            yield* Effect.yieldNow()
            status = yield* readModels.status
          }
          const byName = new Map(status.map((s) => [s.name, s]))
          for (const name of ["rooms", "topics", "creator", "schedule", "notifications"]) {
            expect(byName.get(name)?.state).toBe("failed")
            expect(byName.get(name)?.error).toContain("space-b@0")
            expect(byName.get(name)?.checkpoint).toBe(1)
          }
          // The feed doesn't read SpaceCreated: it went past it.
          expect(byName.get("feed")).toMatchObject({ state: "live", checkpoint: 3, error: null })
          expect((yield* readModels.creator(UserId.make("hana"))).scheduled).toEqual([])
          expect((yield* readModels.room(SpaceId.make("a")))._tag).toBe("Some")
          expect(yield* readModels.position).toBe(1)
        })
      )
    ))
})
