import { SpaceId, UserId } from "@spaces/domain"
import { Duration, Effect, Exit, Queue, Scope } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeReactions } from "../sse/reactions.js"
import { makeInProcessBus } from "./EphemeralBus.js"
import { makeRedisBus } from "./redisBus.js"
import { makeRedisConnectionTracker } from "./redisConnectionTracker.js"
import { type RedisServer, startRedisServer } from "./testing/redisServer.js"

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(() => redis?.stop())

const space = SpaceId.make("s1")
const ana = UserId.make("ana")
const liveness = { heartbeatMs: 100, deadAfterMs: 500 }

/** Runs `body` with a scope that is closed afterwards (a node's lifetime). */
const scoped = <A>(body: (scope: Scope.CloseableScope) => Effect.Effect<A, never, Scope.Scope>) =>
  Effect.runPromise(
    Effect.acquireUseRelease(
      Scope.make(),
      (scope) => Scope.extend(body(scope), scope),
      (scope) => Scope.close(scope, Exit.void)
    )
  )

const takeWithin = <A>(queue: Queue.Dequeue<A>, ms = 5_000) =>
  Queue.take(queue).pipe(Effect.timeoutFail({ duration: Duration.millis(ms), onTimeout: () => "timeout" }))

describe("the ephemeral plane on Redis", () => {
  it("a reaction published on one node reaches the other node's subscribers, and its own", () =>
    scoped(() =>
      Effect.gen(function* () {
        const a = yield* makeReactions(yield* makeRedisBus(redis.url, "node-a"))
        const b = yield* makeReactions(yield* makeRedisBus(redis.url, "node-b"))
        const onA = yield* a.subscribe
        const onB = yield* b.subscribe
        const reaction = { spaceId: space, user: ana, emoji: "🎉", at: 1 }
        yield* a.publish(reaction)
        expect(yield* takeWithin(onB)).toEqual(reaction)
        expect(yield* takeWithin(onA)).toEqual(reaction)
        // Exactly once on the sender's node: its own echo from the broker is ignored.
        expect(yield* Effect.either(takeWithin(onA, 300))).toMatchObject({ _tag: "Left" })
      }).pipe(Effect.orDie)
    ))

  it("a malformed message on the broker is dropped", () =>
    scoped(() =>
      Effect.gen(function* () {
        const b = yield* makeReactions(yield* makeRedisBus(redis.url, "node-b"))
        const onB = yield* b.subscribe
        const raw = new Redis(redis.url)
        yield* Effect.promise(() =>
          raw.publish("spaces:reactions", JSON.stringify({ n: "x", p: { spaceId: 3, emoji: "no" } }))
        )
        yield* Effect.promise(() =>
          raw.publish(
            "spaces:reactions",
            JSON.stringify({ n: "x", p: { spaceId: "s1", user: "bo", emoji: "👍", at: 2 } })
          )
        )
        yield* Effect.promise(() => raw.quit())
        expect(yield* takeWithin(onB)).toMatchObject({ user: "bo", emoji: "👍" })
      }).pipe(Effect.orDie)
    ))

  it("the in-process plane delivers locally and nowhere else", () =>
    scoped(() =>
      Effect.gen(function* () {
        const a = yield* makeReactions(yield* makeInProcessBus("solo"))
        const onA = yield* a.subscribe
        yield* a.publish({ spaceId: space, user: ana, emoji: "👋", at: 3 })
        expect(yield* takeWithin(onA)).toMatchObject({ emoji: "👋" })
      }).pipe(Effect.orDie)
    ))
})

describe("presence across nodes", () => {
  it("a connection on one node counts on every node; its last close is announced everywhere", () =>
    scoped(() =>
      Effect.gen(function* () {
        const busA = yield* makeRedisBus(redis.url, "p-a")
        const busB = yield* makeRedisBus(redis.url, "p-b")
        const a = yield* makeRedisConnectionTracker(redis.url, busA, liveness)
        const b = yield* makeRedisConnectionTracker(redis.url, busB, liveness)
        const onB = yield* b.changes
        expect(yield* b.isConnected(space, ana)).toBe(false)
        yield* a.open("stream:1", space, ana)
        expect(yield* takeWithin(onB)).toEqual({ spaceId: space, user: ana, connected: true })
        expect(yield* b.isConnected(space, ana)).toBe(true)
        // A second connection on B, then A's goes: still connected (B holds one), nothing announced.
        yield* b.open("stream:2", space, ana)
        expect(yield* takeWithin(onB)).toMatchObject({ connected: true }) // B's own first connection
        yield* a.close("stream:1")
        expect(yield* b.isConnected(space, ana)).toBe(true)
        expect(yield* a.isConnected(space, ana)).toBe(true)
        yield* b.close("stream:2")
        expect(yield* takeWithin(onB)).toEqual({ spaceId: space, user: ana, connected: false })
        expect(yield* a.isConnected(space, ana)).toBe(false)
      }).pipe(Effect.orDie)
    ))

  it("a dead node's connections stop counting, and the survivors announce them gone", () =>
    scoped(() =>
      Effect.gen(function* () {
        // What a node killed with SIGKILL leaves in Redis: its pairs, no heartbeat.
        const raw = new Redis(redis.url)
        const pair = JSON.stringify([space, "zoe"])
        yield* Effect.promise(() =>
          raw
            .multi()
            .hset(`spaces:presence:${pair}`, "dead-node", "1")
            .sadd("spaces:node-pairs:dead-node", pair)
            .sadd("spaces:nodes", "dead-node")
            .exec()
        )
        yield* Effect.promise(() => raw.quit())
        const bus = yield* makeRedisBus(redis.url, "survivor")
        const survivor = yield* makeRedisConnectionTracker(redis.url, bus, liveness)
        const changes = yield* survivor.changes
        expect(yield* takeWithin(changes)).toEqual({ spaceId: space, user: "zoe", connected: false })
        expect(yield* survivor.isConnected(space, UserId.make("zoe"))).toBe(false)
      }).pipe(Effect.orDie)
    ))
})
