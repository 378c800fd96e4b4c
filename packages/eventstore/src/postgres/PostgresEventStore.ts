import {
  type AppendResult,
  CheckpointStore,
  type CheckpointStoreShape,
  CommitSignal,
  catchUpThenLive,
  type EventData,
  EventStore,
  type EventStoreShape,
  EventStoreUnavailable,
  type ExpectedRevision,
  type ReadError,
  type RecordedEvent,
  readToEnd,
  type StreamAppend,
  WrongExpectedVersion
} from "@spaces/domain"
import type pg from "pg"
import { Context, Effect, Layer, Schedule, Stream } from "effect"
import { decodeRows, type EventRow } from "../sqlite/rows.js"
import { type AppendRow, appendManyQuery, makeGroupCommit } from "./groupCommit.js"
import { listenForCommits } from "./listener.js"
import { EXPECTED_ANY, EXPECTED_NO_STREAM, EXPECTED_STREAM_EXISTS, migrate } from "./schema.js"

export interface PostgresEventStoreOptions {
  /** `postgres://…` or `postgresql://…` (libpq-style; `?host=/dir` for a unix socket). */
  readonly connectionString: string
  /** Connections in the pool used by appends and reads. Default 10. */
  readonly poolSize?: number
  /** Events per page when reading the global log. Default 8192. */
  readonly pageSize?: number
  /** `application_name` of the store's connections (seen in `pg_stat_activity`). Default "spaces". */
  readonly applicationName?: string
  /** First delay before a subscriber retries after losing the database; doubles up to 5 s. Default 50 ms. */
  readonly retryBackoffMs?: number
}

/** An open PostgreSQL event store: the port, checkpoints in the same database, and the handle to close. */
export interface PostgresEventStore extends EventStoreShape {
  readonly checkpoints: CheckpointStoreShape
  readonly close: () => Promise<void>
}

const unavailable = (cause: unknown) =>
  new EventStoreUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })

/** bigint columns as numbers (positions stay below 2^53); `json` as its text, parsed by `decodeRows`. */
const INT8 = 20
const JSON_OID = 114
const typesOf = (driver: typeof pg) => ({
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8
      ? (value: string) => Number(value)
      : oid === JSON_OID
        ? (value: string) => value
        : driver.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser
})

/** How long a multi-stream append's transaction may sit idle holding the append lock. */
const MANY_IDLE_TIMEOUT_MS = 5_000

const expectedCode = (expected: ExpectedRevision): number =>
  expected === "any"
    ? EXPECTED_ANY
    : expected === "no_stream"
      ? EXPECTED_NO_STREAM
      : expected === "stream_exists"
        ? EXPECTED_STREAM_EXISTS
        : expected

/**
 * The connection broke (no SQLSTATE, or class 08 "connection exception", or 57P "operator
 * intervention": the server was shut down or killed the backend), as opposed to a SQL error.
 */
const isConnectionLost = (error: unknown): boolean => {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : ""
  return !/^[0-9A-Z]{5}$/.test(code) || code.startsWith("08") || code.startsWith("57P")
}

const COLUMNS = "position, stream, revision, id, type, data, metadata"

/** Opens the pool and creates or migrates the schema. Rejects if the database cannot be reached. */
export const makePostgresEventStore = async (
  options: PostgresEventStoreOptions
): Promise<PostgresEventStore> => {
  // Loaded only for this store: a server on SQLite never loads the driver (a faster start).
  const { default: driver } = await import("pg")
  const connection: pg.ClientConfig = {
    connectionString: options.connectionString,
    application_name: options.applicationName ?? "spaces",
    types: typesOf(driver)
  }
  const pool = new driver.Pool({ ...connection, max: options.poolSize ?? 10 })
  // An idle connection that the server drops emits here; without a listener it would crash the process.
  pool.on("error", () => undefined)
  try {
    const client = await pool.connect()
    try {
      await migrate(client)
    } finally {
      client.release()
    }
  } catch (error) {
    await pool.end().catch(() => undefined)
    throw error
  }
  const pageSize = options.pageSize ?? 8192
  const backoff = options.retryBackoffMs ?? 50
  const signal = new CommitSignal()
  let closed = false

  const query = <R extends pg.QueryResultRow>(config: pg.QueryConfig) =>
    Effect.tryPromise({ try: () => pool.query<R>(config), catch: unavailable })

  const rows = (config: pg.QueryArrayConfig) =>
    Effect.flatMap(
      Effect.tryPromise({ try: () => pool.query<EventRow>(config), catch: unavailable }),
      (result): Effect.Effect<ReadonlyArray<RecordedEvent>, ReadError> => {
        const events = decodeRows(result.rows)
        return Array.isArray(events) ? Effect.succeed(events) : Effect.fail(events)
      }
    )

  const readPage = (after: number) =>
    rows({
      name: "spaces_read_all",
      text: `SELECT ${COLUMNS} FROM spaces_events WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [after, pageSize],
      rowMode: "array"
    })

  /**
   * A subscriber outlives connection losses: its page read is retried with exponential backoff
   * (capped at 5 s) from the same position, the last one it delivered. Only a closed store ends it.
   */
  const retrySchedule = Schedule.union(
    Schedule.exponential(`${backoff} millis`),
    Schedule.spaced("5 seconds")
  )
  const resilientPage = (after: number) =>
    readPage(after).pipe(
      Effect.retry({
        schedule: retrySchedule,
        while: (error) => error._tag === "EventStoreUnavailable" && !closed
      })
    )

  /**
   * Appends go through the group commit: those arriving while a commit is in flight share the next
   * one. A connection lost under an append leaves its outcome unknown; appending the same events
   * again is safe (a committed first try is recognised by its ids and returns the original result),
   * so it is retried twice on a fresh connection before the caller sees `EventStoreUnavailable`.
   */
  const group = makeGroupCommit({
    pool,
    shouldRetry: (error) => isConnectionLost(error) && !closed,
    backoffMs: backoff
  })

  const refusedBy = (stream: string, expected: ExpectedRevision, row: AppendRow) =>
    new WrongExpectedVersion({
      stream,
      expected,
      actual: row.next_revision < 0 ? "no_stream" : row.next_revision
    })
  const resultOf = (row: AppendRow): AppendResult => ({
    nextRevision: row.next_revision,
    position: row.last_position ?? 0
  })

  const append = (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision) =>
    Effect.flatMap(
      Effect.tryPromise({
        try: () => group.append({ stream, events, expected: expectedCode(expected) }),
        catch: unavailable
      }),
      (row): Effect.Effect<AppendResult, WrongExpectedVersion | EventStoreUnavailable> => {
        if (!row.appended) return Effect.fail(refusedBy(stream, expected, row))
        // Subscribers in this process wake at once; other processes wake on the NOTIFY.
        if (events.length > 0) signal.notify()
        return Effect.succeed(resultOf(row))
      }
    )

  /**
   * Several streams in one transaction of its own (not the group commit's, whose appends stand
   * alone): committed if every stream was at its expected revision, else rolled back. The append
   * lock is held until then, so positions still commit in order; a client that stalls or vanishes
   * while holding it is cut off after `MANY_IDLE_TIMEOUT_MS` (the server ends an idle transaction),
   * so it can't hold every node's appends for longer. Not retried on a lost connection (the
   * caller's retry with the same ids is recognised per stream).
   */
  const appendMany = (appends: ReadonlyArray<StreamAppend>) =>
    Effect.flatMap(
      Effect.tryPromise({
        try: async () => {
          const client = await pool.connect()
          // Checked out, a client has no error listener of the pool's: a socket failing now would
          // be an unhandled 'error' event. Noted here, the query in flight fails on its own.
          let broken: Error | undefined
          const onError = (error: Error) => {
            broken = error
          }
          client.on("error", onError)
          try {
            await client.query(
              `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${MANY_IDLE_TIMEOUT_MS}`
            )
            const { rows } = await client.query<AppendRow>(
              appendManyQuery(appends.map((a) => ({ ...a, expected: expectedCode(a.expected) })))
            )
            await client.query(rows.every((r) => r.appended) ? "COMMIT" : "ROLLBACK")
            return rows
          } catch (error) {
            // A connection that failed mid-transaction is dropped from the pool, not reused.
            await client.query("ROLLBACK").catch((lost: Error) => {
              broken = lost
            })
            throw error
          } finally {
            client.off("error", onError)
            client.release(broken)
          }
        },
        catch: unavailable
      }),
      (rows): Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreUnavailable> => {
        const refused = rows.findIndex((r) => !r.appended)
        if (refused >= 0)
          return Effect.fail(refusedBy(appends[refused]!.stream, appends[refused]!.expected, rows[refused]!))
        if (appends.some((a) => a.events.length > 0)) signal.notify()
        return Effect.succeed(rows.map(resultOf))
      }
    )

  // The LISTEN connection is open only while somebody subscribes.
  let subscribers = 0
  let stopListening: (() => void) | undefined
  const retainListener = Effect.sync(() => {
    if (subscribers++ === 0 && !closed) {
      stopListening = listenForCommits({
        Client: driver.Client,
        connection,
        onWake: () => signal.notify(),
        backoffMs: backoff
      })
    }
  })
  const releaseListener = Effect.sync(() => {
    if (--subscribers === 0) {
      stopListening?.()
      stopListening = undefined
    }
  })

  return {
    append,
    appendMany,
    readStream: (stream, readOptions) =>
      rows({
        name: "spaces_read_stream",
        text: `SELECT ${COLUMNS} FROM spaces_events WHERE stream = $1 AND revision >= $2 ORDER BY revision`,
        values: [stream, readOptions?.fromRevision ?? 0],
        rowMode: "array"
      }),
    readAll: (from) => readToEnd(from, readPage),
    subscribeAll: (from) =>
      Stream.unwrapScoped(
        Effect.as(
          Effect.acquireRelease(retainListener, () => releaseListener),
          catchUpThenLive(from, resilientPage, signal)
        )
      ),
    checkpoints: {
      load: (name) =>
        Effect.map(
          query<{ position: number }>({
            name: "spaces_load_checkpoint",
            text: "SELECT position FROM spaces_checkpoints WHERE name = $1",
            values: [name]
          }),
          (result) => result.rows[0]?.position ?? 0
        ),
      save: (name, position) =>
        Effect.asVoid(
          query({
            name: "spaces_save_checkpoint",
            text: "INSERT INTO spaces_checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            values: [name, position]
          })
        )
    },
    close: async () => {
      if (closed) return
      closed = true
      stopListening?.()
      stopListening = undefined
      await pool.end()
      // Wake live subscribers so they observe the closed store instead of waiting forever.
      signal.notify()
    }
  }
}

/** The store as a scoped resource: connected and migrated on acquire, closed when the scope ends. */
export const scopedPostgresEventStore = (options: PostgresEventStoreOptions) =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => makePostgresEventStore(options), catch: unavailable }),
    (store) => Effect.promise(store.close)
  )

export const PostgresEventStore = {
  /** `EventStore` and `CheckpointStore` in one PostgreSQL database (one pool shared by both). */
  layer: (
    options: PostgresEventStoreOptions
  ): Layer.Layer<EventStore | CheckpointStore, EventStoreUnavailable> =>
    Layer.scopedContext(
      Effect.map(scopedPostgresEventStore(options), (store) =>
        Context.make(EventStore, store).pipe(Context.add(CheckpointStore, store.checkpoints))
      )
    )
}
