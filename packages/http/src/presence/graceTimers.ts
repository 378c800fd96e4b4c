import { Clock, Deferred, Effect, FiberId, type Scope } from "effect"

export interface GraceTimers<V> {
  /** Starts `key`'s grace unless it is running already. */
  readonly arm: (key: string, value: V) => Effect.Effect<void>
  /** Cancels `key`'s grace, if it runs. */
  readonly disarm: (key: string) => void
  /** The values whose grace is running, soonest due first. */
  readonly pending: () => ReadonlyArray<V>
}

/**
 * Timers that all run for the same time (`graceMs`), kept in one map in the order they were armed,
 * which is the order they fall due, and watched by one fiber that sleeps until the first. Arming
 * and cancelling cost a map write instead of a fiber each: a crowd joining a Space arms one per
 * person, and most are cancelled moments later when the client connects. `onDue` gets the values
 * whose grace ended, in that order; timers falling due meanwhile wait for it to finish.
 */
export const makeGraceTimers = <V>(
  graceMs: number,
  onDue: (due: ReadonlyArray<V>) => Effect.Effect<void>
): Effect.Effect<GraceTimers<V>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const deadlines = new Map<string, { readonly at: number; readonly value: V }>()
    let armed = Deferred.unsafeMake<void>(FiberId.none)

    const sweep = Effect.gen(function* () {
      for (;;) {
        const first = deadlines.values().next()
        if (first.done === true) {
          yield* Deferred.await(armed)
          continue
        }
        const now = yield* Clock.currentTimeMillis
        if (first.value.at > now) {
          yield* Effect.sleep(first.value.at - now)
          continue
        }
        const due: Array<V> = []
        for (const [key, { at, value }] of deadlines) {
          if (at > now) break
          deadlines.delete(key)
          due.push(value)
        }
        yield* onDue(due)
      }
    })
    yield* Effect.forkScoped(sweep)

    return {
      arm: (key, value) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (deadlines.has(key)) return
          deadlines.set(key, { at: now + graceMs, value })
          if (deadlines.size === 1) {
            // The sweeper may be waiting for a first timer: wake it.
            const wake = armed
            armed = Deferred.unsafeMake<void>(FiberId.none)
            Deferred.unsafeDone(wake, Effect.void)
          }
        }),
      disarm: (key) => {
        deadlines.delete(key)
      },
      pending: () => Array.from(deadlines.values(), (d) => d.value)
    }
  })
