import { CommitSignal, catchUpThenLive, type EventData, type RecordedEvent, readToEnd } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { event } from "../contract/EventStoreContract.js"
import { makePostgresEventStore } from "./PostgresEventStore.js"
import { type PostgresCluster, startPostgresCluster } from "./testing/cluster.js"

/**
 * Commit order under concurrency: WRITERS writers append for a while, each holding its transaction
 * open for a random moment after writing (a client's round trip before COMMIT), while a live
 * subscriber follows the log. After quiescence a sentinel is appended; the subscriber's delivered
 * sequence up to the sentinel must equal `readAll`: no gap, no duplicate, same order.
 *
 * The same check run against a naive design (positions from a sequence, read `ORDER BY position`)
 * finds gaps: a transaction that took position 119 and commits after 120 is visible is skipped.
 */
const WRITERS = 16
const APPENDS_PER_WRITER = 25

let cluster: PostgresCluster
beforeAll(async () => {
  cluster = await startPostgresCluster({ settings: { fsync: "off" } })
})
afterAll(() => cluster?.stop())

interface Outcome {
  readonly delivered: ReadonlyArray<RecordedEvent>
  readonly log: ReadonlyArray<RecordedEvent>
}

/** Differences between what the subscriber delivered and the log: missing, duplicated, out of order. */
const compare = ({ delivered, log }: Outcome) => {
  const seen = new Set<string>()
  let duplicates = 0
  for (const e of delivered) {
    if (seen.has(e.id)) duplicates++
    seen.add(e.id)
  }
  const missing = log.filter((e) => !seen.has(e.id))
  const sameOrder = delivered.length === log.length && delivered.every((e, i) => e.id === log[i]!.id)
  return { duplicates, missing: missing.length, sameOrder }
}

const batchFor = (writer: number, round: number): Array<EventData> =>
  Array.from({ length: 1 + ((writer + round) % 4) }, (_, i) => event("Raced", { writer, round, i }))

/** A random pause inside the open transaction, in the server, so the commit lands later. */
const holdOpen = (client: pg.PoolClient) => client.query("SELECT pg_sleep(random() * 0.004)")

/**
 * Runs the workload: `subscribe` follows the log live from the start, `write` is one writer's
 * append in its own transaction on `client`, `sentinel` appends the last event after quiescence.
 */
const race = async (options: {
  readonly pool: pg.Pool
  readonly subscribe: Stream.Stream<RecordedEvent, unknown>
  readonly readAll: Stream.Stream<RecordedEvent, unknown>
  readonly write: (client: pg.PoolClient, stream: string, events: ReadonlyArray<EventData>) => Promise<void>
  readonly sentinel: (event: EventData) => Promise<void>
}): Promise<Outcome> => {
  const last = event("Sentinel")
  const subscriber = Effect.runPromise(
    options.subscribe.pipe(
      Stream.takeUntil((e) => e.id === last.id),
      Stream.runCollect,
      Effect.map(Chunk.toReadonlyArray),
      Effect.timeoutFail({ duration: "60 seconds", onTimeout: () => new Error("subscriber stalled") })
    )
  )
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      const client = await options.pool.connect()
      try {
        for (let round = 0; round < APPENDS_PER_WRITER; round++) {
          await options.write(client, `race-${writer % 5}`, batchFor(writer, round))
        }
      } finally {
        client.release()
      }
    })
  )
  await options.sentinel(last)
  const delivered = await subscriber
  const log = await Effect.runPromise(
    Stream.runCollect(options.readAll).pipe(Effect.map(Chunk.toReadonlyArray))
  )
  return { delivered, log }
}

describe("commit order under concurrent writers", () => {
  it(`the live subscriber delivers exactly the log: ${WRITERS} writers, transactions held open`, async () => {
    const url = await cluster.createDatabase()
    const store = await makePostgresEventStore({ connectionString: url })
    const pool = new pg.Pool({ connectionString: url, max: WRITERS })
    try {
      const outcome = await race({
        pool,
        subscribe: store.subscribeAll(0),
        readAll: store.readAll(0),
        // Half the writers go through the store (one statement per append); the other half call
        // the same append function inside a transaction they keep open a moment before COMMIT,
        // and are seen by the subscriber only through LISTEN/NOTIFY.
        write: async (client, stream, events) => {
          if (events.length % 2 === 0) {
            await Effect.runPromise(store.append(stream, events, "any"))
            return
          }
          await client.query("BEGIN")
          await client.query("SELECT * FROM spaces_append($1, -3, $2, $3, $4, $5)", [
            stream,
            events.map((e) => e.id),
            events.map((e) => e.type),
            events.map((e) => JSON.stringify(e.data)),
            events.map((e) => JSON.stringify(e.metadata))
          ])
          await holdOpen(client)
          await client.query("COMMIT")
        },
        sentinel: (last) => Effect.runPromise(Effect.asVoid(store.append("race-end", [last], "any")))
      })
      expect(outcome.log.length).toBeGreaterThan(WRITERS * APPENDS_PER_WRITER)
      expect(compare(outcome)).toEqual({ duplicates: 0, missing: 0, sameOrder: true })
      // Positions are contiguous: every append took max + 1 under the lock.
      expect(outcome.log.map((e) => e.position)).toEqual(outcome.log.map((_, i) => i + 1))
    } finally {
      await pool.end()
      await store.close()
    }
  })

  it("a naive design (sequence positions, ORDER BY position) skips events: the check catches it", async () => {
    const url = await cluster.createDatabase()
    const pool = new pg.Pool({ connectionString: url, max: WRITERS + 2 })
    try {
      await pool.query(`CREATE TABLE naive_events (
        position bigserial PRIMARY KEY, stream text NOT NULL, id text NOT NULL, type text NOT NULL,
        data json NOT NULL, metadata json NOT NULL)`)
      const signal = new CommitSignal()
      const readPage = (after: number) =>
        Effect.promise(() =>
          pool.query<{ position: string; stream: string; id: string; type: string; data: unknown }>(
            "SELECT position, stream, id, type, data FROM naive_events WHERE position > $1 ORDER BY position LIMIT 500",
            [after]
          )
        ).pipe(
          Effect.map((result) =>
            result.rows.map(
              (row): RecordedEvent => ({
                id: row.id,
                type: row.type,
                data: row.data,
                metadata: { recordedAt: 0 },
                streamId: row.stream,
                revision: 0,
                position: Number(row.position)
              })
            )
          )
        )
      const insert = (client: pg.ClientBase | pg.Pool, stream: string, events: ReadonlyArray<EventData>) =>
        client.query(
          "INSERT INTO naive_events (stream, id, type, data, metadata) SELECT $1, id, type, data::json, metadata::json FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(id, type, data, metadata, ord) ORDER BY ord",
          [
            stream,
            events.map((e) => e.id),
            events.map((e) => e.type),
            events.map((e) => JSON.stringify(e.data)),
            events.map((e) => JSON.stringify(e.metadata))
          ]
        )
      let found: ReturnType<typeof compare> | undefined
      // A skip needs an unlucky interleaving; it comes within the first round in practice.
      for (let attempt = 0; attempt < 5 && found === undefined; attempt++) {
        const outcome = await race({
          pool,
          subscribe: catchUpThenLive(0, readPage, signal),
          readAll: readToEnd(0, readPage),
          write: async (client, stream, events) => {
            await client.query("BEGIN")
            await insert(client, stream, events)
            await holdOpen(client)
            await client.query("COMMIT")
            signal.notify()
          },
          sentinel: async (last) => {
            await insert(pool, "race-end", [last])
            signal.notify()
          }
        })
        const differences = compare(outcome)
        if (differences.missing > 0 || !differences.sameOrder) found = differences
        await pool.query("TRUNCATE naive_events")
      }
      expect(found?.missing).toBeGreaterThan(0)
    } finally {
      await pool.end()
    }
  })
})

describe("the check itself", () => {
  it("reports gaps, duplicates and order", () => {
    const e = (id: string, position: number): RecordedEvent => ({
      id,
      type: "T",
      data: null,
      metadata: { recordedAt: 0 },
      streamId: "s",
      revision: 0,
      position
    })
    const log = [e("a", 1), e("b", 2), e("c", 3)]
    expect(compare({ delivered: log, log })).toEqual({ duplicates: 0, missing: 0, sameOrder: true })
    expect(compare({ delivered: [log[0]!, log[2]!], log })).toMatchObject({ missing: 1, sameOrder: false })
    expect(compare({ delivered: [log[0]!, log[0]!, log[1]!, log[2]!], log })).toMatchObject({
      duplicates: 1
    })
  })
})
