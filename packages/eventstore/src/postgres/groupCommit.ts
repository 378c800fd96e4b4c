import type { EventData } from "@spaces/domain"
import type pg from "pg"

/** What `spaces_append` answers for one append: refused (with the actual revision) or appended. */
export interface AppendRow {
  readonly appended: boolean
  readonly next_revision: number
  readonly last_position: number | null
}

export interface PendingAppend {
  readonly stream: string
  readonly events: ReadonlyArray<EventData>
  /** The expected revision as `spaces_append` takes it (see `schema.ts`). */
  readonly expected: number
}

export interface GroupCommitOptions {
  readonly pool: pg.Pool
  /** Retry a group whose connection broke (safe: a committed first try is recognised by its ids). */
  readonly shouldRetry: (error: unknown) => boolean
  readonly backoffMs: number
  /** A group closes once it holds this many events (one bigger append still goes, alone). */
  readonly maxGroupEvents?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Group commit for serialised appends. Appends are serialised in the database (one lock held until
 * commit, see `schema.ts`), so each commit's flush to disk is paid one after the other. Instead of
 * one transaction per append, the appends that arrive while a commit is in flight wait, then go
 * together in the next one (`spaces_append_many`): one lock, one commit, one flush for all of them,
 * each still with its own expected-revision check and outcome. One group is in flight per process.
 */
export const makeGroupCommit = (options: GroupCommitOptions) => {
  const maxGroupEvents = options.maxGroupEvents ?? 10_000
  const queue: Array<{
    readonly append: PendingAppend
    readonly resolve: (row: AppendRow) => void
    readonly reject: (error: unknown) => void
  }> = []
  let flushing = false

  const run = async (group: ReadonlyArray<PendingAppend>): Promise<ReadonlyArray<AppendRow>> => {
    const events = group.flatMap((a) => a.events)
    const query = {
      name: "spaces_append_many",
      text: "SELECT appended, next_revision, last_position FROM spaces_append_many($1, $2, $3, $4, $5, $6, $7)",
      values: [
        group.map((a) => a.stream),
        group.map((a) => a.expected),
        group.map((a) => a.events.length),
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data) ?? "null"),
        events.map((e) => JSON.stringify(e.metadata))
      ]
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await options.pool.query<AppendRow>(query)
        if (result.rows.length !== group.length)
          throw new Error(`group commit answered ${result.rows.length} rows for ${group.length} appends`)
        return result.rows
      } catch (error) {
        if (attempt >= 2 || !options.shouldRetry(error)) throw error
        await sleep(options.backoffMs * 2 ** attempt)
      }
    }
  }

  const take = () => {
    let count = 0
    let size = 0
    while (
      count < queue.length &&
      (count === 0 || size + queue[count]!.append.events.length <= maxGroupEvents)
    ) {
      size += queue[count]!.append.events.length
      count++
    }
    return queue.splice(0, count)
  }

  const flush = async () => {
    flushing = true
    try {
      while (queue.length > 0) {
        const group = take()
        try {
          const rows = await run(group.map((p) => p.append))
          for (const [i, p] of group.entries()) p.resolve(rows[i]!)
        } catch (error) {
          if (group.length === 1 || options.shouldRetry(error)) {
            for (const p of group) p.reject(error)
            continue
          }
          // One bad append (say, a name PostgreSQL cannot store) must not fail the others: alone, each
          // gets its own outcome.
          for (const p of group) {
            await run([p.append]).then(
              (rows) => p.resolve(rows[0]!),
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
    append: (append: PendingAppend): Promise<AppendRow> =>
      new Promise<AppendRow>((resolve, reject) => {
        queue.push({ append, resolve, reject })
        if (!flushing) void flush()
      })
  }
}
