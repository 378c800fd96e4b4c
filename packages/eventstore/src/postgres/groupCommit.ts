import type { EventData } from "@spaces/domain"
import type pg from "pg"
import { makeCommitQueue } from "../commitQueue.js"

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
 * each still with its own expected-revision check and outcome. One group is in flight per process
 * (the queue is `commitQueue.ts`'s, shared with the SQLite store).
 */
/** `spaces_append_many` over several appends: one outcome row per append, in order. */
export const appendManyQuery = (group: ReadonlyArray<PendingAppend>) => {
  const events = group.flatMap((a) => a.events)
  return {
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
}

export const makeGroupCommit = (options: GroupCommitOptions) => {
  const run = async (group: ReadonlyArray<PendingAppend>): Promise<ReadonlyArray<AppendRow>> => {
    const query = appendManyQuery(group)
    for (let attempt = 0; ; attempt++) {
      try {
        return (await options.pool.query<AppendRow>(query)).rows
      } catch (error) {
        if (attempt >= 2 || !options.shouldRetry(error)) throw error
        await sleep(options.backoffMs * 2 ** attempt)
      }
    }
  }

  const queue = makeCommitQueue<PendingAppend, AppendRow>({
    run,
    size: (append) => append.events.length,
    ...(options.maxGroupEvents === undefined ? {} : { maxGroupEvents: options.maxGroupEvents }),
    // One bad append (say, a name PostgreSQL cannot store) must not fail the others: alone, each
    // gets its own outcome. A lost connection failed them all alike (after its retries).
    isolate: (error) => !options.shouldRetry(error)
  })

  return { append: queue.push }
}
