/**
 * Our PostgreSQL event store against Emmett's (`@event-driven-io/emmett-postgresql`) and against a
 * bare `pg` loop doing the same inserts and reads with no event-store logic at all (no expected
 * revision, no idempotency check, no commit ordering: the machine's limit). Same run, same
 * throwaway cluster (started here: initdb into a temp dir, unix socket, default durable settings:
 * fsync on, synchronous_commit on), one database per contender:
 *   1. single-event appends (appends/s), one writer;
 *   2. single-event appends from 16 concurrent writers over 10 connections each (appends/s): what
 *      serialising appends (ours, an advisory lock held until commit) costs against unordered inserts;
 *   3. 100-event batch appends (events/s);
 *   4. `readAll` over 1,000,000 events (events/s), pages of 8192.
 *
 * Run: npm run bench -- eventstore   (SPACES_BENCH_READ_EVENTS=200000 for a shorter read line)
 */
import { randomUUID } from "node:crypto"
import { dumbo } from "@event-driven-io/dumbo"
import { getPostgreSQLEventStore, readMessagesBatch } from "@event-driven-io/emmett-postgresql"
import type { EventData } from "@spaces/domain"
import { Effect, Stream } from "effect"
import pg from "pg"
import { makePostgresEventStore } from "../src/postgres/PostgresEventStore.js"
import { startPostgresCluster } from "../src/postgres/testing/cluster.js"

const SINGLE_APPENDS = Number(process.env.SPACES_BENCH_SINGLE_APPENDS ?? 2_000)
const WRITERS = 16
const CONCURRENT_APPENDS = 4_000
const BATCHES = 300
const BATCH = 100
const READ_TOTAL = Number(process.env.SPACES_BENCH_READ_EVENTS ?? 1_000_000)
const PAGE = 8192
/** Connections per contender: node-postgres' default pool size, which Emmett's pool keeps. */
const POOL = 10

const payload = (i: number) => ({
  type: "ListenerJoined",
  data: { spaceId: "space-42", userId: `user-${i}`, role: "listener", at: 1_700_000_000_000 + i },
  metadata: { recordedAt: 1_700_000_000_000 + i, correlationId: "bench", actor: `user-${i}` }
})
const ourEvent = (i: number): EventData => ({ id: randomUUID(), ...payload(i) })

const time = async (run: () => Promise<unknown>) => {
  const start = process.hrtime.bigint()
  await run()
  return Number(process.hrtime.bigint() - start) / 1e9
}

/** Runs `count` jobs on `lanes` concurrent lanes. */
const concurrently = (lanes: number, count: number, job: (i: number) => Promise<unknown>) => {
  let next = 0
  return Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) await job(next++)
    })
  )
}

interface Contender {
  readonly name: string
  readonly append: (stream: string, events: ReadonlyArray<EventData>) => Promise<unknown>
  /** Reads the whole log page by page; returns the number of events. */
  readonly readAll: () => Promise<number>
  readonly close: () => Promise<void>
}

const ours = async (url: string): Promise<Contender> => {
  const store = await makePostgresEventStore({ connectionString: url, poolSize: POOL, pageSize: PAGE })
  return {
    name: "@spaces/eventstore",
    append: (stream, events) => Effect.runPromise(store.append(stream, events, "any")),
    readAll: () => {
      let count = 0
      return Effect.runPromise(
        Stream.runForEachChunk(store.readAll(0), (chunk) =>
          Effect.sync(() => {
            count += chunk.length
          })
        )
      ).then(() => count)
    },
    close: store.close
  }
}

const emmett = async (url: string): Promise<Contender> => {
  const store = getPostgreSQLEventStore(url)
  const reader = dumbo({ connectionString: url })
  return {
    name: "emmett-postgresql 0.42.0",
    append: (stream, events) =>
      store.appendToStream(
        stream,
        // The benchmark's payloads are objects; Emmett types an event's data as a record.
        events.map(({ type, data, metadata }) => ({ type, data: data as Record<string, unknown>, metadata }))
      ),
    readAll: async () => {
      let count = 0
      let after = 0n
      for (;;) {
        const page = await readMessagesBatch(reader.execute, { after, batchSize: PAGE })
        count += page.messages.length
        if (page.messages.length === 0) return count
        after = page.currentGlobalPosition
      }
    },
    close: async () => {
      await store.close()
      await reader.close()
    }
  }
}

/** Plain INSERTs into a plain table (bigserial position), plain paged SELECTs, JSON parsed like ours. */
const bare = async (url: string): Promise<Contender> => {
  const pool = new pg.Pool({ connectionString: url, max: POOL })
  await pool.query(`CREATE TABLE bare_events (
    position bigserial PRIMARY KEY, stream text NOT NULL, revision bigint NOT NULL, id text NOT NULL,
    type text NOT NULL, data json NOT NULL, metadata json NOT NULL)`)
  const revisions = new Map<string, number>()
  return {
    name: "bare pg loop",
    append: (stream, events) => {
      const first = revisions.get(stream) ?? 0
      revisions.set(stream, first + events.length)
      return pool.query({
        name: "bare_append",
        text: `INSERT INTO bare_events (stream, revision, id, type, data, metadata)
               SELECT $1, $2 + u.ord - 1, u.id, u.type, u.data::json, u.metadata::json
               FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(id, type, data, metadata, ord)`,
        values: [
          stream,
          first,
          events.map((e) => e.id),
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata))
        ]
      })
    },
    readAll: async () => {
      let count = 0
      let after = 0
      for (;;) {
        const page = await pool.query<[string, string, string, string, string, string, string]>({
          name: "bare_read",
          text: "SELECT position, stream, revision, id, type, data::text, metadata::text FROM bare_events WHERE position > $1 ORDER BY position LIMIT $2",
          values: [after, PAGE],
          rowMode: "array"
        })
        if (page.rows.length === 0) return count
        for (const row of page.rows) {
          JSON.parse(row[5])
          JSON.parse(row[6])
        }
        count += page.rows.length
        after = Number(page.rows[page.rows.length - 1]![0])
      }
    },
    close: () => pool.end()
  }
}

const cluster = await startPostgresCluster({ settings: { shared_buffers: "256MB", max_wal_size: "4GB" } })
// Interrupted (Ctrl-C): stop the cluster too; `exit` handlers do not run on a signal.
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    cluster.stop()
    process.exit(130)
  })
const results: Array<{ line: string; unit: string; figures: number[] }> = []
try {
  const contenders = [
    await ours(await cluster.createDatabase("ours")),
    await emmett(await cluster.createDatabase("emmett")),
    await bare(await cluster.createDatabase("bare"))
  ]
  const line = async (name: string, unit: string, count: number, run: (c: Contender) => Promise<unknown>) => {
    const figures: number[] = []
    for (const contender of contenders) figures.push(count / (await time(() => run(contender))))
    results.push({ line: name, unit, figures })
  }

  await line("single-event appends", "appends/s", SINGLE_APPENDS, async (c) => {
    for (let i = 0; i < SINGLE_APPENDS; i++) await c.append(`space-${i % 100}`, [ourEvent(i)])
  })
  await line(`single-event appends, ${WRITERS} writers`, "appends/s", CONCURRENT_APPENDS, (c) =>
    concurrently(WRITERS, CONCURRENT_APPENDS, (i) => c.append(`busy-${i % 100}`, [ourEvent(i)]))
  )
  await line("100-event batch appends", "events/s", BATCHES * BATCH, async (c) => {
    for (let b = 0; b < BATCHES; b++) {
      const batch = Array.from({ length: BATCH }, (_, i) => ourEvent(b * BATCH + i))
      await c.append(`batch-${b % 100}`, batch)
    }
  })

  // readAll: seed every log up to READ_TOTAL (untimed), then read everything once.
  process.stderr.write(`seeding ${READ_TOTAL.toLocaleString("en-US")} events in each store…\n`)
  const already = SINGLE_APPENDS + CONCURRENT_APPENDS + BATCHES * BATCH
  for (const contender of contenders) {
    for (let n = already; n < READ_TOTAL; n += 5_000) {
      const size = Math.min(5_000, READ_TOTAL - n)
      await contender.append(
        `seed-${n % 1000}`,
        Array.from({ length: size }, (_, i) => ourEvent(n + i))
      )
    }
  }
  const counts: number[] = []
  await line(
    `readAll over ${READ_TOTAL.toLocaleString("en-US")} events`,
    "events/s",
    READ_TOTAL,
    async (c) => {
      counts.push(await c.readAll())
    }
  )
  if (counts.some((n) => n !== Math.max(READ_TOTAL, already)))
    throw new Error(`read ${counts.join(" / ")} events, expected ${READ_TOTAL}`)

  for (const contender of contenders) await contender.close()

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  console.log("\nPostgreSQL event stores — PostgreSQL 15, throwaway cluster, fsync on, unix socket")
  console.table(
    results.map(({ line, unit, figures: [mine = 0, theirs = 0, limit = 0] }) => ({
      workload: line,
      unit,
      "@spaces/eventstore": fmt(mine),
      "emmett-postgresql": fmt(theirs),
      "bare pg loop": fmt(limit),
      "ours / emmett": `${(mine / theirs).toFixed(2)}×`,
      "ours / bare": `${(mine / limit).toFixed(2)}×`
    }))
  )
} finally {
  cluster.stop()
}
