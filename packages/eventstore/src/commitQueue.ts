/**
 * The queue behind group commit, shared by the stores whose appends are serialised (PostgreSQL's
 * lock, SQLite's single writer): appends wait in a queue, and each flush runs the queue's head as
 * one group, one transaction and one commit for all of them, each append still with its own
 * outcome. Nobody is answered before the group's commit returned. A synchronous driver may also
 * commit an append at once when nothing else is waiting (`canRunNow`, `runNow`).
 */
export interface CommitQueueOptions<Item, Outcome> {
  /**
   * Runs one group in one transaction; answers one outcome per item, in order. A synchronous driver
   * answers at once (an array, or a throw): its group is settled in the same turn, no promise.
   */
  readonly run: (group: ReadonlyArray<Item>) => Promise<ReadonlyArray<Outcome>> | ReadonlyArray<Outcome>
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
  /**
   * A synchronous driver's commit of one item by itself (`runNow`): the same as `run` with a group
   * of one, without the two arrays around it. Default: `run([item])`.
   */
  readonly runAlone?: (item: Item) => Outcome
}

/** Who committed last, when it was a group: no appender may commit at once after it (see `canRunNow`). */
const GROUP: unique symbol = Symbol("group")

export const makeCommitQueue = <Item, Outcome>(options: CommitQueueOptions<Item, Outcome>) => {
  const maxGroupEvents = options.maxGroupEvents ?? 10_000
  const schedule = options.schedule ?? ((flush: () => void) => flush())
  const queue: Array<{
    readonly item: Item
    readonly resolve: (outcome: Outcome) => void
    readonly reject: (error: unknown) => void
  }> = []
  let flushing = false
  const runAlone =
    options.runAlone ??
    ((item: Item): Outcome => {
      const outcomes = options.run([item])
      if (!Array.isArray(outcomes)) throw new Error("runNow needs a synchronous driver")
      if (outcomes.length !== 1)
        throw new Error(`group commit answered ${outcomes.length} outcomes for 1 append`)
      return outcomes[0]!
    })

  /**
   * Set by a commit until the current run of microtasks ends: the appenders that its
   * acknowledgements resumed (or that were started together) run before then, and their appends
   * should wait and share one commit rather than each commit alone. Only the appender that
   * committed last may commit at once again (its next append in sequence: nobody else's is pending).
   */
  let lastCommitter: unknown
  let committedThisRun = false
  const endOfRun = () => {
    committedThisRun = false
    lastCommitter = undefined
  }
  /**
   * Whether the last group that waited gathered several appends: they are piling up (requests
   * resumed together by one wake-up), and even the first of the next ones waits for its run of
   * microtasks to end, rather than commit alone and leave the others a commit of their own. A
   * group of one ends it.
   */
  let pilingUp = false
  const markCommitted = (committer: unknown) => {
    lastCommitter = committer
    if (!committedThisRun) {
      committedThisRun = true
      queueMicrotask(endOfRun)
    }
  }

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

  const settle = (group: ReturnType<typeof take>, outcomes: ReadonlyArray<Outcome>) => {
    if (outcomes.length !== group.length)
      throw new Error(`group commit answered ${outcomes.length} outcomes for ${group.length} appends`)
    for (let i = 0; i < group.length; i++) group[i]!.resolve(outcomes[i]!)
  }

  /** After a group failed as a whole: fail them all, or run each alone (see `isolate`). */
  const recover = async (group: ReturnType<typeof take>, error: unknown) => {
    if (group.length === 1 || options.isolate?.(error) !== true) {
      for (const p of group) p.reject(error)
      return
    }
    for (const p of group) {
      try {
        const outcomes = await options.run([p.item])
        p.resolve(outcomes[0]!)
      } catch (alone) {
        p.reject(alone)
      }
    }
  }

  /** Runs groups while items wait; synchronous groups settle without leaving the current turn. */
  const flush = async () => {
    try {
      while (queue.length > 0) {
        const group = take()
        pilingUp = group.length > 1
        try {
          const outcomes = options.run(group.map((p) => p.item))
          settle(group, Array.isArray(outcomes) ? outcomes : await outcomes)
        } catch (error) {
          await recover(group, error)
        }
      }
    } finally {
      flushing = false
      // After the acknowledgements: the appenders they resumed run after this mark, not before it.
      markCommitted(GROUP)
    }
  }

  const enqueue = (item: Item, resolve: (outcome: Outcome) => void, reject: (error: unknown) => void) => {
    queue.push({ item, resolve, reject })
    if (!flushing) {
      flushing = true
      schedule(() => void flush())
    }
  }

  return {
    /**
     * May `committer` (whoever appends: a fiber) commit an item at once, in a group of its own? Only
     * when nothing waits or runs, appends are not piling up, and no other commit happened in the
     * current run of microtasks: a lone writer pays no wait at all, and appends that pile up still
     * share commits.
     */
    canRunNow: (committer: unknown): boolean =>
      queue.length === 0 && !flushing && !pilingUp && (!committedThisRun || committer === lastCommitter),
    /**
     * Commits `item` alone, now, and answers its outcome (throws if its transaction failed); for a
     * synchronous driver, after `canRunNow` said yes.
     */
    runNow: (item: Item, committer: unknown): Outcome => {
      const outcome = runAlone(item)
      markCommitted(committer)
      return outcome
    },
    /** Resolves with the item's outcome once its group committed; rejects if the group failed. */
    push: (item: Item): Promise<Outcome> =>
      new Promise<Outcome>((resolve, reject) => enqueue(item, resolve, reject)),
    /** `push` with callbacks: called once, after the item's group committed (or failed). */
    enqueue
  }
}
