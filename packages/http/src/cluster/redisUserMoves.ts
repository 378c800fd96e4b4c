import { randomUUID } from "node:crypto"
import { UserMoves } from "@spaces/domain"
import { Duration, Effect, Layer, Schedule } from "effect"
import type { Redis } from "ioredis"
import { connectRedis, KEY_PREFIX } from "./redisBus.js"

/** A lease: long enough for any move (a few appends), renewed while held, gone if its node dies. */
const LEASE_MS = 10_000
const RENEW_EVERY_MS = 3_000
/** How long a move waits for another move of the same user before going on without the lock. */
const WAIT_MS = 15_000

/** Deletes or extends the key only while it still holds our token (another holder's is left alone). */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`

const logDegraded = (user: string, why: string) =>
  Effect.logWarning("user moves: going on without the cross-node lock").pipe(
    Effect.annotateLogs({ event: "cluster.move_lock_unavailable", user, why })
  )

/**
 * One user's moves, one at a time across the nodes: `SET spaces:move:<user> <token> NX PX`, retried
 * until free, renewed while the move runs, released by compare-and-delete. If the broker is down
 * (or the wait runs out), the move goes on unlocked and says so in the log: each stream's expected
 * revisions still hold, only the cross-Space rule loses its guard for that moment.
 */
export const makeRedisUserMoves = (redis: Redis): typeof UserMoves.Service => ({
  serialize: <A, E, R>(user: string, effect: Effect.Effect<A, E, R>) => {
    const key = `${KEY_PREFIX}move:${user}`
    const token = randomUUID()
    const tryOnce = Effect.tryPromise(() => redis.set(key, token, "PX", LEASE_MS, "NX")).pipe(
      Effect.map((answer) => answer === "OK")
    )
    const acquire = tryOnce.pipe(
      Effect.flatMap((held) => (held ? Effect.succeed(true) : Effect.fail("busy" as const))),
      // Only a held lock is waited for; a broker error goes on at once.
      Effect.retry({
        schedule: Schedule.exponential("2 millis").pipe(
          Schedule.union(Schedule.spaced("50 millis")),
          Schedule.upTo(Duration.millis(WAIT_MS))
        ),
        while: (error) => error === "busy"
      }),
      Effect.catchAll((error) =>
        Effect.as(logDegraded(user, error === "busy" ? "waited too long" : String(error)), false)
      )
    )
    const renew = Effect.tryPromise(() => redis.eval(RENEW, 1, key, token, String(LEASE_MS))).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(RENEW_EVERY_MS))
    )
    const release = Effect.tryPromise(() => redis.eval(RELEASE, 1, key, token)).pipe(Effect.ignore)
    return Effect.acquireUseRelease(
      acquire,
      (held) => (held ? Effect.raceFirst(effect, renew.pipe(Effect.zipRight(Effect.never))) : effect),
      (held) => (held ? release : Effect.void)
    )
  }
})

export const RedisUserMoves = (url: string, node: string) =>
  Layer.scoped(UserMoves, Effect.map(connectRedis(url, `spaces-moves-${node}`), makeRedisUserMoves))
