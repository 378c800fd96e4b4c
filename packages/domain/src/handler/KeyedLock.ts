import { Context, Effect } from "effect"

/**
 * One permit per key: effects for the same key run one at a time, different keys in parallel.
 * Entries are dropped when no fiber holds or waits for them, so memory follows active keys.
 */
export const makeKeyedLock = () => {
  const locks = new Map<string, { semaphore: Effect.Semaphore; users: number }>()
  return <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        let entry = locks.get(key)
        if (entry === undefined) {
          entry = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }
          locks.set(key, entry)
        }
        entry.users++
        return entry
      }),
      (entry) => entry.semaphore.withPermits(1)(effect),
      (entry) =>
        Effect.sync(() => {
          entry.users--
          if (entry.users === 0) locks.delete(key)
        })
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
