import { SpaceId, UserId } from "@spaces/domain"
import { Effect, Either, PubSub, Schedule, Schema, type Scope } from "effect"
import { ConnectionTracker, type PresenceChange } from "../presence/ConnectionTracker.js"
import { brokerAttempt, relayRemote } from "./brokerCalls.js"
import type { EphemeralBusShape } from "./EphemeralBus.js"
import { connectRedis, KEY_PREFIX } from "./redisBus.js"

/** How often a node says it is alive, and after how long without that it is taken for dead. */
export interface NodeLiveness {
  readonly heartbeatMs: number
  readonly deadAfterMs: number
}

export const defaultLiveness: NodeLiveness = { heartbeatMs: 1_000, deadAfterMs: 5_000 }

const Change = Schema.Struct({ spaceId: SpaceId, user: UserId, connected: Schema.Boolean })

const pairOf = (spaceId: SpaceId, user: UserId) => JSON.stringify([spaceId, user])
const Pair = Schema.parseJson(Schema.Tuple(SpaceId, UserId))
const decodePair = Schema.decodeUnknownEither(Pair)

/**
 * Presence across nodes (Redis): each node counts its own connections in memory, as one node
 * does, and writes to Redis only when one of its (space, user) pairs gets its first connection or
 * loses its last one:
 *
 * - `spaces:presence:<pair>`: a hash node → 1 while that node holds a connection of the pair;
 * - `spaces:node-pairs:<node>`: the pairs a node holds (to clean up after its death);
 * - `spaces:node:<node>`: the node's heartbeat, expiring after `deadAfterMs`;
 * - `spaces:nodes`: the set of nodes, from which the survivors notice a node whose heartbeat expired.
 *
 * A pair is connected while any node whose heartbeat is alive holds it. Transitions are published
 * on the ephemeral plane so every node's presence arms or cancels the disconnect grace; the grace's
 * end asks `isConnected` again (cluster-wide), so a lost or reordered message costs nothing, and the
 * leave it issues is the domain's no-op for someone already gone (several nodes may issue it).
 * When a node dies, the first survivor to claim it (`SREM` answers 1 to one caller only) drops its
 * pairs and announces the ones now held by nobody: their users get the grace to reconnect elsewhere.
 * While the broker is unreachable a pair counts as connected (nobody is left because of an outage).
 */
export const makeRedisConnectionTracker = (
  url: string,
  bus: EphemeralBusShape,
  liveness: NodeLiveness = defaultLiveness
): Effect.Effect<typeof ConnectionTracker.Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const node = bus.node
    const redis = yield* connectRedis(url, `spaces-presence-${node}`)
    const local = yield* Effect.acquireRelease(PubSub.unbounded<PresenceChange>(), PubSub.shutdown)
    const owners = new Map<string, { readonly spaceId: SpaceId; readonly user: UserId }>()
    const counts = new Map<string, number>()
    const k = {
      presence: (pair: string) => `${KEY_PREFIX}presence:${pair}`,
      nodePairs: (n: string) => `${KEY_PREFIX}node-pairs:${n}`,
      alive: (n: string) => `${KEY_PREFIX}node:${n}`,
      nodes: `${KEY_PREFIX}nodes`
    }
    const attempt = brokerAttempt("presence", "cluster.presence_failed")

    const announce = (change: PresenceChange) =>
      Effect.zipRight(
        PubSub.publish(local, change),
        bus.publish("presence", Schema.encodeSync(Change)(change))
      )

    const heartbeat = attempt(
      "heartbeat",
      () => redis.multi().set(k.alive(node), "1", "PX", liveness.deadAfterMs).sadd(k.nodes, node).exec(),
      null
    )
    // A node restarted under the same id (SPACES_NODE_ID) holds nothing yet: forget what it held.
    yield* attempt(
      "restart",
      async () => {
        const stale = await redis.smembers(k.nodePairs(node))
        const multi = redis.multi()
        for (const pair of stale) multi.hdel(k.presence(pair), node)
        await multi.del(k.nodePairs(node)).exec()
      },
      undefined
    )
    yield* heartbeat
    yield* heartbeat.pipe(Effect.repeat(Schedule.spaced(liveness.heartbeatMs)), Effect.forkScoped)

    /** Whether any live node holds `pair` (this node's own count first: no round trip). */
    const heldAnywhere = (pair: string) =>
      Effect.gen(function* () {
        if (counts.has(pair)) return true
        const holders = yield* attempt("holders", () => redis.hkeys(k.presence(pair)), null)
        if (holders === null) return true
        const others = holders.filter((n) => n !== node)
        if (others.length === 0) return false
        const alive = yield* attempt("alive", () => redis.exists(...others.map(k.alive)), others.length)
        return alive > 0
      })

    /** Survivors drop a dead node's pairs; the pairs nobody holds any more start their grace. */
    const sweep = Effect.gen(function* () {
      const nodes = yield* attempt("nodes", () => redis.smembers(k.nodes), [] as Array<string>)
      for (const dead of nodes) {
        if (dead === node) continue
        const alive = yield* attempt("alive", () => redis.exists(k.alive(dead)), 1)
        if (alive > 0) continue
        const claimed = yield* attempt("claim", () => redis.srem(k.nodes, dead), 0)
        if (claimed !== 1) continue
        const pairs = yield* attempt("pairs", () => redis.smembers(k.nodePairs(dead)), [] as Array<string>)
        yield* Effect.logWarning("presence: a node died; its connections are gone").pipe(
          Effect.annotateLogs({ event: "cluster.node_dead", node: dead, pairs: pairs.length })
        )
        for (const pair of pairs) {
          yield* attempt("drop", () => redis.hdel(k.presence(pair), dead), 0)
          const decoded = decodePair(pair)
          if (Either.isLeft(decoded)) continue
          const [spaceId, user] = decoded.right
          if (!(yield* heldAnywhere(pair))) yield* announce({ spaceId, user, connected: false })
        }
        yield* attempt("forget", () => redis.del(k.nodePairs(dead)), 0)
      }
    })
    yield* sweep.pipe(Effect.repeat(Schedule.spaced(liveness.heartbeatMs)), Effect.forkScoped)

    // The other nodes' transitions, into this node's presence.
    yield* relayRemote(bus, "presence", Change, local)

    // A clean stop leaves nothing behind: the survivors need not wait for the heartbeat to expire.
    yield* Effect.addFinalizer(() =>
      attempt(
        "leave",
        async () => {
          const pairs = await redis.smembers(k.nodePairs(node))
          const multi = redis.multi()
          for (const pair of pairs) multi.hdel(k.presence(pair), node)
          await multi.del(k.nodePairs(node)).del(k.alive(node)).srem(k.nodes, node).exec()
        },
        undefined
      )
    )

    return ConnectionTracker.of({
      open: (key, spaceId, user) =>
        Effect.suspend(() => {
          if (owners.has(key)) return Effect.void
          owners.set(key, { spaceId, user })
          const pair = pairOf(spaceId, user)
          const n = (counts.get(pair) ?? 0) + 1
          counts.set(pair, n)
          if (n > 1) return Effect.void
          return attempt(
            "hold",
            () => redis.multi().hset(k.presence(pair), node, "1").sadd(k.nodePairs(node), pair).exec(),
            null
          ).pipe(Effect.zipRight(announce({ spaceId, user, connected: true })))
        }),
      close: (key) =>
        Effect.suspend(() => {
          const owner = owners.get(key)
          if (owner === undefined) return Effect.void
          owners.delete(key)
          const pair = pairOf(owner.spaceId, owner.user)
          const n = (counts.get(pair) ?? 1) - 1
          if (n > 0) {
            counts.set(pair, n)
            return Effect.void
          }
          counts.delete(pair)
          return Effect.gen(function* () {
            yield* attempt(
              "release",
              () => redis.multi().hdel(k.presence(pair), node).srem(k.nodePairs(node), pair).exec(),
              null
            )
            // Held on another node still: nothing changed for the room.
            if (yield* heldAnywhere(pair)) return
            yield* announce({ ...owner, connected: false })
          })
        }),
      isConnected: (spaceId, user) => heldAnywhere(pairOf(spaceId, user)),
      changes: PubSub.subscribe(local)
    })
  })
