/**
 * Our SQLite event store against Emmett's (`@event-driven-io/emmett-sqlite`, on `sqlite3`), same
 * workload, same run, fresh temp files:
 *   1. single-event appends (appends/s), 2. 100-event batch appends (events/s),
 *   3. `readAll` over 1,000,000 events (events/s).
 * Both run in WAL mode with `synchronous=NORMAL` (ours by default; Emmett's connection is set with
 * the same PRAGMA). Emmett is driven through its own exported functions on one long-lived
 * connection (its `getSQLiteEventStore` would reopen the file on every call, which would only
 * slow it down), reading with a page size as big as ours.
 *
 * Beside both, the machine's limit: a bare better-sqlite3 loop on the same table and pragmas
 * (`prepareDatabase`, and the WAL checkpointed on the same background thread as ours) doing the same inserts (one `BEGIN IMMEDIATE … COMMIT` per append or batch,
 * the same JSON encoding) and the same paged reads (rows as arrays, the same JSON decoding), with
 * no event-store logic: no revision check, no retry detection, no events built. Ours must stay
 * within 80% of it. Ours and the bare loop run in pairs of rounds, back to back, after a warm-up
 * round each; the ratio is the median pair's (see `rounds`).
 *
 * Run: npm run bench -- eventstore
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { EventData } from "@spaces/domain"
import { Effect, Stream } from "effect"
import Database from "better-sqlite3"
import { makeSqliteEventStore } from "../src/sqlite/SqliteEventStore.js"
import { prepareDatabase } from "../src/sqlite/schema.js"
import { checkpointInBackground } from "../src/sqlite/walCheckpointer.js"
import { median } from "../../../scripts/bench/median.js"

const ROUNDS = Number(process.env.SPACES_BENCH_ROUNDS ?? 3)
/**
 * The writes run in short rounds, many of them: a round of ours and one of the bare loop back to
 * back see the same machine, and a neighbour's burst spoils one pair instead of a third of the
 * run. A round of single appends still spans a few of the WAL checkpointer's looks (every 250 ms),
 * so that whether a checkpoint lands in it decides less.
 */
const WRITE_ROUNDS = 5 * ROUNDS
const SINGLE_APPENDS = Math.round(30_000 / WRITE_ROUNDS)
const BATCHES = Math.round(900 / WRITE_ROUNDS)
const BATCH = 100
/** Emmett, far slower, runs once: as many single appends and batches as one of ours' old rounds. */
const EMMETT_SINGLE_APPENDS = 5_000
const EMMETT_BATCHES = 300
const READ_TOTAL = 1_000_000
const PAGE = 8192

/** The part of emmett-sqlite this benchmark uses (it lives in the `test` workspace). */
interface EmmettConnection {
  close: () => void
  command: (sql: string) => Promise<unknown>
}
interface EmmettEvent {
  type: string
  data: Record<string, unknown>
  metadata: Record<string, unknown>
}
interface EmmettSqlite {
  sqliteConnection: (options: { fileName: string }) => EmmettConnection
  createEventStoreSchema: (connection: EmmettConnection) => Promise<void>
  appendToStream: (
    connection: EmmettConnection,
    stream: string,
    streamType: string,
    events: EmmettEvent[]
  ) => Promise<{ success: boolean }>
  readMessagesBatch: (
    connection: EmmettConnection,
    options: { after: bigint; batchSize: number }
  ) => Promise<{ currentGlobalPosition: bigint; messages: unknown[]; areEventsLeft: boolean }>
}

const loadEmmett = async (): Promise<EmmettSqlite> => {
  const fromTestWorkspace = createRequire(new URL("../../../test/package.json", import.meta.url))
  const entry = fromTestWorkspace.resolve("@event-driven-io/emmett-sqlite").replace(/index\.cjs$/, "index.js")
  return (await import(pathToFileURL(entry).href)) as EmmettSqlite
}

const payload = (i: number) => ({
  type: "ListenerJoined",
  data: { spaceId: "space-42", userId: `user-${i}`, role: "listener", at: 1_700_000_000_000 + i },
  metadata: { recordedAt: 1_700_000_000_000 + i, correlationId: "bench", actor: `user-${i}` }
})
const ourEvent = (i: number): EventData => ({ id: randomUUID(), ...payload(i) })

const time = async (run: () => Promise<void> | void) => {
  const start = process.hrtime.bigint()
  await run()
  return Number(process.hrtime.bigint() - start) / 1e9
}

const dir = mkdtempSync(join(tmpdir(), "spaces-bench-"))
const results: Array<{
  line: string
  unit: string
  ours: number
  theirs: number
  bare: number
  ratio: number
}> = []

/** The bare loop: prepared statements and transactions, nothing else. */
const makeBare = (path: string) => {
  const db = new Database(path)
  prepareDatabase(db, "normal")
  const stopCheckpointing = checkpointInBackground(db)
  const insert = db.prepare<[string, number, string, string, string, string]>(
    "INSERT INTO events (stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)"
  )
  const page = db
    .prepare<[number, number], [number, string, number, string, string, string, string]>(
      "SELECT position, stream, revision, id, type, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT ?"
    )
    .raw(true)
  // The next revision of each stream, kept in memory: the bare loop never reads it back.
  const revisions = new Map<string, number>()
  const append = db.transaction((stream: string, events: ReadonlyArray<EventData>) => {
    let revision = revisions.get(stream) ?? 0
    for (const event of events)
      insert.run(
        stream,
        revision++,
        event.id,
        event.type,
        JSON.stringify(event.data),
        JSON.stringify(event.metadata)
      )
    revisions.set(stream, revision)
  })
  return {
    append: (stream: string, events: ReadonlyArray<EventData>) => append.immediate(stream, events),
    /** Every row after 0, page by page, its JSON parsed: returns how many rows. */
    readAll: () => {
      let after = 0
      let count = 0
      for (;;) {
        const rows = page.all(after, PAGE)
        if (rows.length === 0) return count
        for (const row of rows) {
          JSON.parse(row[5])
          JSON.parse(row[6])
        }
        count += rows.length
        after = rows[rows.length - 1]![0]
      }
    },
    close: () => {
      db.close()
      stopCheckpointing()
    }
  }
}

try {
  const emmett = await loadEmmett()
  const ours = makeSqliteEventStore({ path: join(dir, "ours.sqlite"), synchronous: "normal" })
  const theirs = emmett.sqliteConnection({ fileName: join(dir, "emmett.sqlite") })
  await theirs.command("PRAGMA synchronous = NORMAL")
  await emmett.createEventStoreSchema(theirs)
  const bare = makeBare(join(dir, "bare.sqlite"))
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  // Ours and the bare loop run in pairs of rounds, back to back, strictly alternating (each side's
  // file then rests for one round of the other's, while the WAL checkpointer catches up with it:
  // a side that ran twice in a row ran its second round into its own checkpoint, up to twice as
  // slow), after one untimed warm-up round each (the JIT, the statements' first pages). The
  // machine is shared, and a neighbour's burst should not decide a ratio: each pair gives a ratio
  // (ours / bare, both having seen the same load), and the median pair's ratio counts; the figures
  // are each side's median round. Emmett, much slower, runs once.
  const rounds = async (
    count: number,
    mine: () => Promise<void> | void,
    limit: () => Promise<void> | void,
    warmUp: boolean
  ) => {
    if (warmUp) {
      await mine()
      await limit()
    }
    const ourTimes: Array<number> = []
    const bareTimes: Array<number> = []
    for (let r = 0; r < count; r++) {
      ourTimes.push(await time(mine))
      bareTimes.push(await time(limit))
    }
    return {
      mine: median(ourTimes),
      limit: median(bareTimes),
      // Rates, so the bare loop's time over ours.
      ratio: median(ourTimes.map((t, r) => bareTimes[r]! / t))
    }
  }
  let oursWritten = 0
  let bareWritten = 0

  // 1. Single-event appends, round-robin over 100 streams, no concurrency check on either side.
  {
    const { mine, limit, ratio } = await rounds(
      WRITE_ROUNDS,
      async () => {
        for (let i = 0; i < SINGLE_APPENDS; i++)
          await run(ours.append(`space-${i % 100}`, [ourEvent(i)], "any"))
        oursWritten += SINGLE_APPENDS
      },
      () => {
        for (let i = 0; i < SINGLE_APPENDS; i++) bare.append(`space-${i % 100}`, [ourEvent(i)])
        bareWritten += SINGLE_APPENDS
      },
      true
    )
    const other = await time(async () => {
      for (let i = 0; i < EMMETT_SINGLE_APPENDS; i++)
        await emmett.appendToStream(theirs, `space-${i % 100}`, "space", [payload(i)])
    })
    results.push({
      line: "single-event appends",
      unit: "appends/s",
      ours: SINGLE_APPENDS / mine,
      theirs: EMMETT_SINGLE_APPENDS / other,
      bare: SINGLE_APPENDS / limit,
      ratio
    })
  }

  // 2. 100-event batches.
  {
    const { mine, limit, ratio } = await rounds(
      WRITE_ROUNDS,
      async () => {
        for (let b = 0; b < BATCHES; b++) {
          const batch = Array.from({ length: BATCH }, (_, i) => ourEvent(b * BATCH + i))
          await run(ours.append(`batch-${b % 100}`, batch, "any"))
        }
        oursWritten += BATCHES * BATCH
      },
      () => {
        for (let b = 0; b < BATCHES; b++) {
          const batch = Array.from({ length: BATCH }, (_, i) => ourEvent(b * BATCH + i))
          bare.append(`batch-${b % 100}`, batch)
        }
        bareWritten += BATCHES * BATCH
      },
      true
    )
    const other = await time(async () => {
      for (let b = 0; b < EMMETT_BATCHES; b++) {
        const batch = Array.from({ length: BATCH }, (_, i) => payload(b * BATCH + i))
        await emmett.appendToStream(theirs, `batch-${b % 100}`, "batch", batch)
      }
    })
    const events = BATCHES * BATCH
    results.push({
      line: "100-event batch appends",
      unit: "events/s",
      ours: events / mine,
      theirs: (EMMETT_BATCHES * BATCH) / other,
      bare: events / limit,
      ratio
    })
  }

  // 3. readAll over 1,000,000 events: seed the logs (untimed), then read everything.
  {
    process.stderr.write("seeding 1,000,000 events in each store…\n")
    for (let n = oursWritten; n < READ_TOTAL; n += 10_000) {
      const size = Math.min(10_000, READ_TOTAL - n)
      await run(
        ours.append(
          `seed-${n % 1000}`,
          Array.from({ length: size }, (_, i) => ourEvent(n + i)),
          "any"
        )
      )
    }
    for (let n = bareWritten; n < READ_TOTAL; n += 10_000) {
      const size = Math.min(10_000, READ_TOTAL - n)
      bare.append(
        `seed-${n % 1000}`,
        Array.from({ length: size }, (_, i) => ourEvent(n + i))
      )
    }
    // Emmett binds 10 parameters per event in one statement: 1,000 events stay under SQLite's limit.
    for (let n = EMMETT_SINGLE_APPENDS + EMMETT_BATCHES * BATCH; n < READ_TOTAL; n += 1_000) {
      const size = Math.min(1_000, READ_TOTAL - n)
      await emmett.appendToStream(
        theirs,
        `seed-${n % 1000}`,
        "seed",
        Array.from({ length: size }, (_, i) => payload(n + i))
      )
    }
    let mineCount = 0
    let bareCount = 0
    // A read is a million events: its own warm-up, and three rounds are enough.
    const { mine, limit, ratio } = await rounds(
      ROUNDS,
      () => {
        mineCount = 0
        return run(
          Stream.runForEachChunk(ours.readAll(0), (chunk) =>
            Effect.sync(() => {
              mineCount += chunk.length
            })
          )
        )
      },
      () => {
        bareCount = bare.readAll()
      },
      false
    )
    let theirCount = 0
    const other = await time(async () => {
      let after = 0n
      for (;;) {
        const page = await emmett.readMessagesBatch(theirs, { after, batchSize: PAGE })
        theirCount += page.messages.length
        if (page.messages.length === 0) break
        after = page.currentGlobalPosition
      }
    })
    if (mineCount !== READ_TOTAL || theirCount !== READ_TOTAL || bareCount !== READ_TOTAL)
      throw new Error(`read ${mineCount} / ${theirCount} / ${bareCount} events, expected ${READ_TOTAL}`)
    results.push({
      line: "readAll over 1,000,000 events",
      unit: "events/s",
      ours: mineCount / mine,
      theirs: theirCount / other,
      bare: bareCount / limit,
      ratio
    })
  }

  ours.close()
  theirs.close()
  bare.close()

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  console.log("\nSQLite event stores — WAL, synchronous=NORMAL, temp files")
  console.log(
    `ours and the bare loop: ${WRITE_ROUNDS} pairs of rounds of ${SINGLE_APPENDS} single appends / ${BATCHES} batches, ${ROUNDS} of readAll; figures: each side's median round; ours / bare: the median pair's ratio`
  )
  console.table(
    results.map(({ line, unit, ours, theirs, bare, ratio }) => ({
      workload: line,
      unit,
      "@spaces/eventstore": fmt(ours),
      "emmett-sqlite 0.38.5": fmt(theirs),
      "bare better-sqlite3": fmt(bare),
      "ours / emmett": `${(ours / theirs).toFixed(2)}×`,
      "ours / bare (target ≥ 0.80)": `${ratio.toFixed(2)}×`
    }))
  )
  const behind = results.filter((r) => r.ours <= r.theirs)
  if (behind.length > 0) console.log(`behind emmett on: ${behind.map((r) => r.line).join(", ")}`)
  const short = results.filter((r) => r.ratio < 0.8)
  if (short.length > 0) console.log(`under 80% of the bare loop on: ${short.map((r) => r.line).join(", ")}`)
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
