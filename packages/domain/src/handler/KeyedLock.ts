import { Context, Effect } from "effect"

/**
 * One turn per key: effects for the same key run one at a time, in the order they asked, different
 * keys in parallel. A key's entry lives only while someone holds or waits for it, so memory follows
 * active keys. Taking a free key is one synchronous step (no semaphore, no scope): a join takes
 * three of them (its user, the Space it enters, the Space it leaves).
 */
export const makeKeyedLock = () => {
  /** Held keys, each with the turns waiting after its holder. */
  const held = new Map<string, Array<() => void>>()
  /** The holder is done: the next in line gets the key, or nobody holds it any more. */
  const release = (key: string) => {
    const next = held.get(key)?.shift()
    if (next !== undefined) next()
    else held.delete(key)
  }
  const acquire = (key: string): Effect.Effect<void> =>
    Effect.suspend(() => {
      const waiting = held.get(key)
      if (waiting === undefined) {
        held.set(key, [])
        return Effect.void
      }
      return Effect.async<void>((resume) => {
        let granted = false
        const grant = () => {
          granted = true
          resume(Effect.void)
        }
        waiting.push(grant)
        // Interrupted while waiting: leave the line, or pass on the key if it was handed over.
        return Effect.sync(() => {
          if (granted) release(key)
          else {
            const at = waiting.indexOf(grant)
            if (at !== -1) waiting.splice(at, 1)
          }
        })
      })
    })
  return <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(acquire(key)),
        Effect.ensuring(
          restore(effect),
          Effect.sync(() => release(key))
        )
      )
    )
}

/**
 * Orders one user's moves between Spaces across every process that writes to the log (several
 * server nodes). The per-stream expected revisions keep each stream consistent, but "in one live
 * Space at a time" spans streams: with single-stream appends, a move that is admitted to a Space
 * while another move of the same user is recorded elsewhere could leave them in two. Within one
 * process the keyed lock above orders a user's moves; this port does it across processes (the
 * server nodes back it with their broker). Absent, the in-process lock alone applies.
 */
export class UserMoves extends Context.Tag("@spaces/domain/UserMoves")<
  UserMoves,
  {
    readonly serialize: <A, E, R>(user: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>() {}
