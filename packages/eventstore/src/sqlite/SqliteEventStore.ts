import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import {
  type AppendResult,
  CheckpointStore,
  type CheckpointStoreShape,
  CommitSignal,
  catchUpThenLive,
  EventStore,
  EventStoreUnavailable,
  type EventStoreShape,
  type ReadError,
  readToEnd,
  type RecordedEvent,
  type WrongExpectedVersion
} from "@spaces/domain"
import Database from "better-sqlite3"
import { Context, Effect, Layer, Stream } from "effect"
import { watchExternalCommits } from "./externalCommits.js"
import { decodeRows, EVENT_COLUMNS, type EventRow } from "./rows.js"
import { prepareDatabase, type SqliteSynchronous } from "./schema.js"
import { makeCommitQueue } from "../commitQueue.js"
import { checkpointInBackground } from "./walCheckpointer.js"
import { type GroupOutcome, makeWriter, type PendingWrite, type SqliteWriter } from "./writer.js"

/** How many events a group-commit item writes. */
const sizeOf = (item: PendingWrite) =>
  "many" in item ? item.many.reduce((n, a) => n + a.events.length, 0) : item.events.length

/** Did the item write events (not refused, not failed, not empty)? */
const wrote = (item: PendingWrite, outcome: GroupOutcome) => !("_tag" in outcome) && sizeOf(item) > 0

export interface SqliteEventStoreOptions {
  /** The database file (created with its directory if absent), or `":memory:"`. */
  readonly path: string
  /** Durability of each commit; see `SqliteSynchronous`. Default `"normal"`. */
  readonly synchronous?: SqliteSynchronous
  /**
   * Events per page when reading the global log; default 1024. Big pages amortise the query, but a
   * page lives until its reader is done with it: past a few thousand events its objects outlive the
   * young generation and the garbage collector costs more than the queries saved.
   */
  readonly pageSize?: number
  /**
   * Which appends share a commit (group commit):
   * - `"microtask"` (default): those made before the current run of microtasks ends. A lone writer
   *   awaiting each append waits for no turn of the event loop.
   * - `"loopTurn"`: those made in the current turn of the event loop (the group commits on
   *   `setImmediate`). A server reads the requests of many sockets in one turn, each in its own
   *   callback: they then share one transaction instead of one each (about 15% less CPU per join
   *   in the HTTP benchmark), for a loop turn of latency per append.
   */
  readonly groupCommit?: "microtask" | "loopTurn"
}

/** An open SQLite event store: the port, checkpoints in the same file, and the handle to close. */
export interface SqliteEventStore extends EventStoreShape {
  readonly checkpoints: CheckpointStoreShape
  /** The writer behind `append`, for tests of the storage's own guarantees. */
  readonly writer: SqliteWriter
  readonly close: () => void
}

const unavailable = (cause: unknown) =>
  new EventStoreUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })

/**
 * Waits for the event loop's next turn; subscribers run it after each wake-up. The commits of the
 * requests already waiting for I/O land first, so under load a woken subscriber reads a batch
 * instead of one event (fewer reads, fewer projection transactions), for one loop turn of delivery
 * latency. Real time, not `Clock`: it must not stall under a test clock.
 */
const nextMacrotask: Effect.Effect<void> = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Opens (or creates) the store. Throws if the file cannot be opened. */
export const makeSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore => {
  const inMemory = options.path === ":memory:"
  if (!inMemory) mkdirSync(dirname(options.path), { recursive: true })
  const db = new Database(options.path)
  try {
    prepareDatabase(db, options.synchronous ?? "normal")
  } catch (error) {
    db.close()
    throw error
  }
  const stopCheckpointing = checkpointInBackground(db)
  const pageSize = options.pageSize ?? 1024
  const writer = makeWriter(db)
  const signal = new CommitSignal()

  const pageAfter = db
    .prepare<[number, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`
    )
    .raw(true)
  const streamFrom = db
    .prepare<[string, number], EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision`
    )
    .raw(true)
  const loadCheckpoint = db
    .prepare<[string], number>("SELECT position FROM checkpoints WHERE name = ?")
    .pluck(true)
  const saveCheckpoint = db.prepare<[string, number]>(
    "INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position"
  )

  const decoded = (rows: () => Array<EventRow>) =>
    Effect.suspend((): Effect.Effect<ReadonlyArray<RecordedEvent>, ReadError> => {
      let read: Array<EventRow>
      try {
        read = rows()
      } catch (error) {
        return Effect.fail(unavailable(error))
      }
      const events = decodeRows(read)
      return Array.isArray(events)
        ? Effect.succeed<ReadonlyArray<RecordedEvent>>(events)
        : Effect.fail(events)
    })

  /**
   * Moves on every commit this store hears of (its own, and others' through the watcher), before
   * subscribers are woken. A page read at one generation is the same page for as long as it lasts.
   */
  let generation = 0
  /** Live subscriptions (`subscribeAll`): nobody else waits on the signal. */
  let subscribers = 0
  const committed = () => {
    generation++
    // A wake-up costs a new wait handle per commit: none when nobody can be waiting.
    if (subscribers > 0) signal.notify()
  }
  /**
   * The last page read, decoded. Every subscriber in the process (projections, the log's head, live
   * streams) wakes on the same commit and reads from the same position: the first one queries and
   * decodes, the others get the same events (never changed by anyone: see `RecordedEvent`). Valid
   * while nothing committed since: no commit of ours (`generation`), none by another connection
   * (`PRAGMA data_version`, which moves only for those; one tiny query instead of a page).
   */
  const dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck(true)
  let lastPage:
    | {
        readonly after: number
        readonly generation: number
        readonly version: number
        readonly events: ReadonlyArray<RecordedEvent>
      }
    | undefined
  const readPage = (after: number) =>
    Effect.suspend(() => {
      let version: number
      try {
        version = dataVersion.get() as number
      } catch (error) {
        return Effect.fail(unavailable(error))
      }
      const cached = lastPage
      if (
        cached !== undefined &&
        cached.after === after &&
        cached.generation === generation &&
        cached.version === version
      )
        return Effect.succeed(cached.events)
      const at = generation
      return Effect.tap(
        decoded(() => pageAfter.all(after, pageSize)),
        (events) =>
          Effect.sync(() => {
            lastPage = { after, generation: at, version, events }
          })
      )
    })

  // Other processes' commits are watched only while somebody subscribes (see externalCommits.ts).
  let stopWatching: (() => void) | undefined
  const retainWatch = Effect.sync(() => {
    if (subscribers++ === 0 && !inMemory && db.open) {
      stopWatching = watchExternalCommits(db, options.path, committed)
    }
  })
  const releaseWatch = Effect.sync(() => {
    if (--subscribers === 0) {
      stopWatching?.()
      stopWatching = undefined
    }
  })

  /**
   * Group commit (see `groupCommit`). Per run of microtasks (the default): an append made while
   * the writer is idle (nothing waiting, no commit yet in the current run of microtasks, the last
   * group that waited was of one) commits at once, in the caller's fiber: a lone writer pays no
   * suspension and no wait. Otherwise it waits for the current run of microtasks to end (per loop
   * turn: always, for `setImmediate`), then goes
   * in one transaction with the others that piled up meanwhile (one commit, one write of the WAL's
   * pages for all), each acknowledged only once that commit returned. Under load that gathers the
   * requests woken together: one group's acknowledgements resume its requests in the same run, and
   * their next appends (a join's move after its leave) share the next commit.
   */
  const perLoopTurn = options.groupCommit === "loopTurn"
  const commits = makeCommitQueue<PendingWrite, GroupOutcome>({
    run: (group) => {
      const outcomes = writer.appendGroup(group)
      for (let i = 0; i < group.length; i++)
        if (wrote(group[i]!, outcomes[i]!)) {
          committed()
          break
        }
      return outcomes
    },
    // An idle writer's append (every awaited append of a lone writer): no group array around it.
    runAlone: (item) => {
      const outcome = writer.appendOne(item)
      if (wrote(item, outcome)) committed()
      return outcome
    },
    size: sizeOf,
    schedule: perLoopTurn ? (flush) => setImmediate(flush) : (flush) => queueMicrotask(flush)
  })

  /** An item's outcome as the append's result, or the conflict or failure that refused it. */
  const answer = <A>(
    outcome: GroupOutcome
  ): Effect.Effect<A, WrongExpectedVersion | EventStoreUnavailable> =>
    !("_tag" in outcome)
      ? Effect.succeed(outcome as A)
      : outcome._tag === "Failed"
        ? Effect.fail(unavailable(outcome.error))
        : Effect.fail(outcome)

  /**
   * Commits the item at once if the writer is idle; else waits for its group to commit: one
   * suspension, resumed straight from the commit (no promise in between).
   */
  const commit = <A extends AppendResult | ReadonlyArray<AppendResult>>(item: PendingWrite) =>
    Effect.withFiberRuntime<A, WrongExpectedVersion | EventStoreUnavailable>((fiber) => {
      // Per loop turn, even an idle writer waits: the requests of other sockets read in this
      // turn are yet to come.
      if (!perLoopTurn && commits.canRunNow(fiber)) {
        let outcome: GroupOutcome
        try {
          outcome = commits.runNow(item, fiber)
        } catch (error) {
          return Effect.fail(unavailable(error))
        }
        return answer<A>(outcome)
      }
      return Effect.async<A, WrongExpectedVersion | EventStoreUnavailable>((resume) =>
        commits.enqueue(
          item,
          (outcome) => resume(answer<A>(outcome)),
          (error) => resume(Effect.fail(unavailable(error)))
        )
      )
    })

  return {
    append: (stream, events, expected) => commit<AppendResult>({ stream, events, expected }),
    appendMany: (appends) => commit<ReadonlyArray<AppendResult>>({ many: appends }),
    readStream: (stream, readOptions) =>
      decoded(() => streamFrom.all(stream, readOptions?.fromRevision ?? 0)),
    knownRevision: (stream) => {
      try {
        return writer.knownRevision(stream)
      } catch {
        // The file can't be asked (closed, I/O): a read will say what is wrong.
        return undefined
      }
    },
    head: () => Effect.try({ try: writer.lastPosition, catch: unavailable }),
    // A one-off read of the log: no subscriber shares its pages, so none is kept (see `lastPage`).
    readAll: (from) => readToEnd(from, (after) => decoded(() => pageAfter.all(after, pageSize))),
    subscribeAll: (from) =>
      Stream.unwrapScoped(
        Effect.as(
          Effect.acquireRelease(retainWatch, () => releaseWatch),
          catchUpThenLive(from, readPage, signal, nextMacrotask)
        )
      ),
    checkpoints: {
      load: (name) => Effect.try({ try: () => loadCheckpoint.get(name) ?? 0, catch: unavailable }),
      save: (name, position) =>
        Effect.try({ try: () => void saveCheckpoint.run(name, position), catch: unavailable })
    },
    writer,
    close: () => {
      stopWatching?.()
      stopWatching = undefined
      if (db.open) db.close()
      stopCheckpointing()
      // Wake live subscribers so they observe the closed store instead of waiting forever.
      signal.notify()
    }
  }
}

/** The store as a scoped resource: opened on acquire, closed when the scope ends. */
export const scopedSqliteEventStore = (options: SqliteEventStoreOptions) =>
  Effect.acquireRelease(
    Effect.try({ try: () => makeSqliteEventStore(options), catch: unavailable }),
    (store) => Effect.sync(store.close)
  )

export const SqliteEventStore = {
  /**
   * `EventStore` and `CheckpointStore` backed by one SQLite file (one handle shared by both), opened
   * when the layer is built and closed when its scope is released.
   */
  layer: (
    options: SqliteEventStoreOptions
  ): Layer.Layer<EventStore | CheckpointStore, EventStoreUnavailable> =>
    Layer.scopedContext(
      Effect.map(scopedSqliteEventStore(options), (store) =>
        Context.make(EventStore, store).pipe(Context.add(CheckpointStore, store.checkpoints))
      )
    )
}
