import { EventStore, type EventStoreShape, makeInMemoryEventStore } from "@spaces/domain"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { makeReadModels } from "../ReadModelsLive.js"
import { makeMemoryStorage } from "../store/MemoryStorage.js"
import type { Storage } from "../store/Storage.js"

const at = Date.UTC(2026, 0, 1)
const follow = (id: string) => ({
  id,
  type: "UserFollowed",
  data: { _tag: "UserFollowed", user: "u1", followee: `u${id}`, at },
  metadata: { recordedAt: at }
})

/** The runners' status once none says "catching-up", or after many turns of the scheduler. */
const settledStatus = (store: EventStoreShape, storage: Storage) =>
  Effect.scoped(
    Effect.gen(function* () {
      const readModels = yield* makeReadModels(storage).pipe(Effect.provideService(EventStore, store))
      let status = yield* readModels.status
      for (let turn = 0; turn < 1_000 && status.some((s) => s.state === "catching-up"); turn++) {
        yield* Effect.yieldNow()
        status = yield* readModels.status
      }
      return status
    })
  )

describe("runner status", () => {
  it("is live on an empty log: there is nothing to catch up on", async () => {
    const status = await Effect.runPromise(settledStatus(makeInMemoryEventStore(), makeMemoryStorage()))
    expect(status).toHaveLength(6)
    for (const runner of status)
      expect(runner).toMatchObject({ state: "live", checkpoint: 0, head: 0, lagEvents: 0, error: null })
  })

  it("is live after a restart at the end of the log, before any new event", async () => {
    const store = makeInMemoryEventStore()
    await Effect.runPromise(store.append("user-u1", [follow("2"), follow("3")], "any"))
    const storage = makeMemoryStorage()
    const first = await Effect.runPromise(settledStatus(store, storage))
    expect(first.map((r) => r.state)).toEqual(Array(6).fill("live"))
    // Same storage, nothing appended since: every runner resumes at the head with nothing to read.
    const second = await Effect.runPromise(settledStatus(store, storage))
    for (const runner of second)
      expect(runner).toMatchObject({ state: "live", checkpoint: 2, head: 2, lagEvents: 0 })
  })
})
