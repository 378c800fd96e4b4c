import type { Redis } from "ioredis"
import { Effect, Layer, PubSub, type Scope } from "effect"
import { EphemeralBus, type EphemeralBusShape } from "./EphemeralBus.js"

/** Every channel and key the cluster uses starts with this, so a shared Redis can hold other things. */
export const KEY_PREFIX = "spaces:"

/** A Redis connection that fails fast while the broker is down instead of queueing (ephemeral data). */
export const connectRedis = (
  url: string,
  name: string,
  options: { readonly queueWhileDown?: boolean } = {}
) =>
  Effect.acquireRelease(
    // Loaded only with a broker configured: a single node never needs ioredis (a faster start).
    Effect.promise(() => import("ioredis")).pipe(
      Effect.map(
        ({ Redis }): Redis =>
          new Redis(url, {
            connectionName: name,
            // Subscriptions wait for the connection; ephemeral publishes are dropped while it is down.
            enableOfflineQueue: options.queueWhileDown ?? false,
            maxRetriesPerRequest: 1,
            // Reconnect forever, at most every 2 s: the broker coming back heals the plane by itself.
            retryStrategy: (attempt) => Math.min(100 * attempt, 2_000)
          })
      )
    ),
    (redis) => Effect.promise(() => redis.quit().catch(() => redis.disconnect()))
  ).pipe(
    // An unreachable broker is logged, not thrown: ioredis emits "error" events while it retries.
    Effect.tap((redis) =>
      Effect.sync(() => {
        redis.on("error", (error: Error) => logBroker(name, error))
      })
    ),
    // A node starts with its broker connection up when it can (bounded: a broker still down then
    // is reached later, and meanwhile the plane drops what it is given).
    Effect.tap((redis) =>
      redis.status === "ready"
        ? Effect.void
        : Effect.async<void>((resume) => {
            const done = () => resume(Effect.void)
            redis.once("ready", done)
            return Effect.sync(() => redis.off("ready", done))
          }).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    )
  )

let lastLog = 0
const logBroker = (name: string, error: Error) => {
  const now = Date.now()
  if (now - lastLog < 5_000) return
  lastLog = now
  Effect.runFork(
    Effect.logWarning("broker unreachable; retrying").pipe(
      Effect.annotateLogs({ event: "cluster.broker_error", connection: name, error: error.message })
    )
  )
}

/** Messages on the wire: the sender's node id and the payload. */
interface Envelope {
  readonly n: string
  readonly p: unknown
}

const parse = (raw: string): Envelope | undefined => {
  try {
    const value: unknown = JSON.parse(raw)
    if (typeof value !== "object" || value === null || !("n" in value) || typeof value.n !== "string")
      return undefined
    return { n: value.n, p: "p" in value ? value.p : undefined }
  } catch {
    return undefined
  }
}

/**
 * The ephemeral plane on Redis pub/sub: one connection publishes, one subscribes (Redis puts a
 * subscribed connection in a mode of its own). A channel per topic; a node ignores its own echoes.
 * ioredis resubscribes by itself after a reconnect; messages sent meanwhile are lost (ephemeral).
 */
export const makeRedisBus = (
  url: string,
  node: string
): Effect.Effect<EphemeralBusShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const pub = yield* connectRedis(url, `spaces-pub-${node}`)
    const sub = yield* connectRedis(url, `spaces-sub-${node}`, { queueWhileDown: true })
    const topics = new Map<string, PubSub.PubSub<unknown>>()
    sub.on("message", (channel: string, raw: string) => {
      const topic = topics.get(channel)
      const envelope = parse(raw)
      if (topic === undefined || envelope === undefined || envelope.n === node) return
      Effect.runSync(PubSub.publish(topic, envelope.p))
    })
    yield* Effect.addFinalizer(() =>
      Effect.forEach(topics.values(), (topic) => PubSub.shutdown(topic), { discard: true })
    )
    const topicOf = (name: string) =>
      Effect.suspend(() => {
        const channel = KEY_PREFIX + name
        const existing = topics.get(channel)
        if (existing !== undefined) return Effect.succeed(existing)
        const created = Effect.runSync(PubSub.sliding<unknown>(8_192))
        topics.set(channel, created)
        // Waits (bounded) for the broker so a subscriber hears what is published after it
        // returns; a broker still down then gets the subscription when it comes back.
        return Effect.promise(() => sub.subscribe(channel).catch(() => 0)).pipe(
          Effect.timeout("5 seconds"),
          Effect.ignore,
          Effect.as(created)
        )
      })
    return {
      node,
      publish: (topic, payload) =>
        Effect.promise(() =>
          pub
            .publish(KEY_PREFIX + topic, JSON.stringify({ n: node, p: payload } satisfies Envelope))
            .catch(() => 0)
        ).pipe(Effect.asVoid),
      subscribe: (topic) => Effect.flatMap(topicOf(topic), PubSub.subscribe)
    }
  })

export const RedisBus = (url: string, node: string) => Layer.scoped(EphemeralBus, makeRedisBus(url, node))
