/**
 * The queue behind group commit, shared by the stores whose appends are serialised (PostgreSQL's
 * lock, SQLite's single writer): appends wait in a queue, and each flush runs the queue's head as
 * one group, one transaction and one commit for all of them, each append still with its own
 * outcome. Nobody is answered before the group's commit returned.
 */
export interface CommitQueueOptions<Item, Outcome> {
  /** Runs one group in one transaction; answers one outcome per item, in order. */
  readonly run: (group: ReadonlyArray<Item>) => Promise<ReadonlyArray<Outcome>>
  /** How many events an item carries: a group closes at `maxGroupEvents` (one bigger item still goes, alone). */
  readonly size: (item: Item) => number
  readonly maxGroupEvents?: number
  /**
   * After a group of several failed as a whole: run each item alone, so that one bad append does
   * not fail the others (true), or fail them all (false). Default: fail them all.
   */
  readonly isolate?: (error: unknown) => boolean
  /**
   * When a flush starts once an item waits with none running. Default: at once (a driver that
   * waits on a socket gathers the next group while this one is in flight). A synchronous driver has
   * no "in flight": it starts on the event loop's next turn, so that the appends of every request
   * handled in this turn share the commit.
   */
  readonly schedule?: (flush: () => void) => void
}

export const makeCommitQueue = <Item, Outcome>(options: CommitQueueOptions<Item, Outcome>) => {
  const maxGroupEvents = options.maxGroupEvents ?? 10_000
  const schedule = options.schedule ?? ((flush: () => void) => flush())
  const queue: Array<{
    readonly item: Item
    readonly resolve: (outcome: Outcome) => void
    readonly reject: (error: unknown) => void
  }> = []
  let flushing = false

  const take = () => {
    let count = 0
    let size = 0
    while (
      count < queue.length &&
      (count === 0 || size + options.size(queue[count]!.item) <= maxGroupEvents)
    ) {
      size += options.size(queue[count]!.item)
      count++
    }
    return queue.splice(0, count)
  }

  const flush = async () => {
    try {
      while (queue.length > 0) {
        const group = take()
        try {
          const outcomes = await options.run(group.map((p) => p.item))
          if (outcomes.length !== group.length)
            throw new Error(`group commit answered ${outcomes.length} outcomes for ${group.length} appends`)
          for (const [i, p] of group.entries()) p.resolve(outcomes[i]!)
        } catch (error) {
          if (group.length === 1 || options.isolate?.(error) !== true) {
            for (const p of group) p.reject(error)
            continue
          }
          for (const p of group) {
            await options.run([p.item]).then(
              (outcomes) => p.resolve(outcomes[0]!),
              (alone: unknown) => p.reject(alone)
            )
          }
        }
      }
    } finally {
      flushing = false
    }
  }

  return {
    /** Resolves with the item's outcome once its group committed; rejects if the group failed. */
    push: (item: Item): Promise<Outcome> =>
      new Promise<Outcome>((resolve, reject) => {
        queue.push({ item, resolve, reject })
        if (!flushing) {
          flushing = true
          schedule(() => void flush())
        }
      })
  }
}
