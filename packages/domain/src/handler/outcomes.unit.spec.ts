import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { EventStore } from "../eventstore/EventStore.js"
import { makeInMemoryEventStore } from "../eventstore/InMemoryEventStore.js"
import { PostId, SpaceId, UserId } from "../ids.js"
import { spacesOn } from "../layers.js"
import { SpaceDecider } from "../space/SpaceDecider.js"
import { spaceStream } from "../streams.js"
import { SpaceEvent } from "../space/SpaceEvent.js"
import { makeAggregateRepository } from "./AggregateRepository.js"
import { Spaces } from "./Spaces.js"

const space = SpaceId.make("outcomes")
const hana = UserId.make("hana")
const create = {
  _tag: "CreateSpace" as const,
  spaceId: space,
  by: hana,
  title: "Retries",
  topics: [],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false
}
const post = (n: number) => ({
  _tag: "PublishPost" as const,
  spaceId: space,
  by: hana,
  postId: PostId.make(`p${n}`),
  text: `post ${n}`
})

/**
 * Creates the Space and posts once, each with a key; `fill` then pushes those outcomes out of
 * memory; the two are retried, and the post's key reused for another command. The retries must
 * answer as the first time, the reuse be refused, and nothing be appended.
 */
const retriesAfter = async (
  store: ReturnType<typeof makeInMemoryEventStore>,
  options: Parameters<typeof spacesOn>[1],
  fill: Effect.Effect<unknown, unknown, Spaces>
) => {
  const { first, firstPost, retried, retriedPost, reused, length, after } = await Effect.runPromise(
    Effect.gen(function* () {
      const spaces = yield* Spaces
      const first = yield* spaces.execute(create, { idempotencyKey: "k0" })
      const firstPost = yield* spaces.execute(post(1), { idempotencyKey: "k1" })
      yield* fill
      const length = (yield* store.readStream(spaceStream(space))).length
      const retried = yield* spaces.execute(create, { idempotencyKey: "k0" })
      const retriedPost = yield* spaces.execute(post(1), { idempotencyKey: "k1" })
      // The key named another command: still refused after it left memory.
      const reused = yield* Effect.flip(spaces.execute(post(9), { idempotencyKey: "k1" }))
      const after = (yield* store.readStream(spaceStream(space))).length
      return { first, firstPost, retried, retriedPost, reused, length, after }
    }).pipe(Effect.provide(spacesOn(Layer.succeed(EventStore, store), options)))
  )
  expect(retried).toEqual({ ...first, replayed: true })
  expect(retriedPost).toEqual({ ...firstPost, replayed: true })
  expect(reused._tag).toBe("IdempotencyKeyReused")
  expect(after).toBe(length)
}

describe("idempotency outcomes kept in memory", () => {
  it("are bounded per stream; a retry of a dropped key still answers as the first time", async () => {
    const store = makeInMemoryEventStore()
    await retriesAfter(
      store,
      { maxOutcomesPerStream: 2 },
      Effect.gen(function* () {
        const spaces = yield* Spaces
        for (let n = 2; n <= 5; n++) yield* spaces.execute(post(n), { idempotencyKey: `k${n}` })
      })
    )

    // What a fresh load keeps: the latest two outcomes only.
    const repo = makeAggregateRepository(store, {
      schema: SpaceEvent,
      decider: SpaceDecider,
      maxOutcomesPerStream: 2
    })
    const loaded = await Effect.runPromise(repo.load(spaceStream(space)))
    expect([...loaded.outcomes.keys()]).toEqual(["k4", "k5"])
    const found = await Effect.runPromise(repo.outcomeOf(spaceStream(space), loaded, "k0"))
    expect(found?.events.map((e) => e._tag)).toEqual(["SpaceCreated", "SpaceStarted"])
  })

  it("are bounded over all streams: the least recently used lose their oldest; their retries still replay", async () => {
    const store = makeInMemoryEventStore()
    const other = SpaceId.make("outcomes-2")
    const kai = UserId.make("kai")
    await retriesAfter(
      store,
      { maxOutcomes: 3 },
      Effect.gen(function* () {
        const spaces = yield* Spaces
        // Another Space's outcomes, more recently used, push the first Space's out.
        yield* spaces.execute({ ...create, spaceId: other, by: kai }, { idempotencyKey: "o0" })
        for (let n = 1; n <= 2; n++)
          yield* spaces.execute({ ...post(n), spaceId: other, by: kai }, { idempotencyKey: `o${n}` })
      })
    )

    // The bound holds over both streams: the first one, least recently used, kept none.
    const repo = makeAggregateRepository(store, { schema: SpaceEvent, decider: SpaceDecider, maxOutcomes: 3 })
    const one = await Effect.runPromise(repo.load(spaceStream(space)))
    const two = await Effect.runPromise(repo.load(spaceStream(other)))
    expect([...one.outcomes.keys()]).toEqual([])
    expect([...two.outcomes.keys()]).toEqual(["o0", "o1", "o2"])
    const found = await Effect.runPromise(repo.outcomeOf(spaceStream(space), one, "k0"))
    expect(found?.events.map((e) => e._tag)).toEqual(["SpaceCreated", "SpaceStarted"])
  })
})
