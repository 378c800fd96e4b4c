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
 * Run: npm run bench -- eventstore
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type { EventData } from "@spaces/domain"
import { Effect, Stream } from "effect"
import { makeSqliteEventStore } from "../src/sqlite/SqliteEventStore.js"

const SINGLE_APPENDS = 5_000
const BATCHES = 300
const BATCH = 100
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
const results: Array<{ line: string; unit: string; ours: number; theirs: number }> = []

try {
  const emmett = await loadEmmett()
  const ours = makeSqliteEventStore({ path: join(dir, "ours.sqlite"), synchronous: "normal" })
  const theirs = emmett.sqliteConnection({ fileName: join(dir, "emmett.sqlite") })
  await theirs.command("PRAGMA synchronous = NORMAL")
  await emmett.createEventStoreSchema(theirs)
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  // 1. Single-event appends, round-robin over 100 streams, no concurrency check on either side.
  {
    const mine = await time(async () => {
      for (let i = 0; i < SINGLE_APPENDS; i++)
        await run(ours.append(`space-${i % 100}`, [ourEvent(i)], "any"))
    })
    const other = await time(async () => {
      for (let i = 0; i < SINGLE_APPENDS; i++)
        await emmett.appendToStream(theirs, `space-${i % 100}`, "space", [payload(i)])
    })
    results.push({
      line: "single-event appends",
      unit: "appends/s",
      ours: SINGLE_APPENDS / mine,
      theirs: SINGLE_APPENDS / other
    })
  }

  // 2. 100-event batches.
  {
    const mine = await time(async () => {
      for (let b = 0; b < BATCHES; b++) {
        const batch = Array.from({ length: BATCH }, (_, i) => ourEvent(b * BATCH + i))
        await run(ours.append(`batch-${b % 100}`, batch, "any"))
      }
    })
    const other = await time(async () => {
      for (let b = 0; b < BATCHES; b++) {
        const batch = Array.from({ length: BATCH }, (_, i) => payload(b * BATCH + i))
        await emmett.appendToStream(theirs, `batch-${b % 100}`, "batch", batch)
      }
    })
    const events = BATCHES * BATCH
    results.push({
      line: "100-event batch appends",
      unit: "events/s",
      ours: events / mine,
      theirs: events / other
    })
  }

  // 3. readAll over 1,000,000 events: seed both logs (untimed), then read everything once.
  {
    process.stderr.write("seeding 1,000,000 events in each store…\n")
    const already = SINGLE_APPENDS + BATCHES * BATCH
    for (let n = already; n < READ_TOTAL; n += 10_000) {
      const size = Math.min(10_000, READ_TOTAL - n)
      await run(
        ours.append(
          `seed-${n % 1000}`,
          Array.from({ length: size }, (_, i) => ourEvent(n + i)),
          "any"
        )
      )
    }
    // Emmett binds 10 parameters per event in one statement: 1,000 events stay under SQLite's limit.
    for (let n = already; n < READ_TOTAL; n += 1_000) {
      const size = Math.min(1_000, READ_TOTAL - n)
      await emmett.appendToStream(
        theirs,
        `seed-${n % 1000}`,
        "seed",
        Array.from({ length: size }, (_, i) => payload(n + i))
      )
    }
    let mineCount = 0
    const mine = await time(() =>
      run(
        Stream.runForEachChunk(ours.readAll(0), (chunk) =>
          Effect.sync(() => {
            mineCount += chunk.length
          })
        )
      )
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
    if (mineCount !== READ_TOTAL || theirCount !== READ_TOTAL)
      throw new Error(`read ${mineCount} / ${theirCount} events, expected ${READ_TOTAL}`)
    results.push({
      line: "readAll over 1,000,000 events",
      unit: "events/s",
      ours: mineCount / mine,
      theirs: theirCount / other
    })
  }

  ours.close()
  theirs.close()

  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  console.log("\nSQLite event stores — WAL, synchronous=NORMAL, temp files")
  console.table(
    results.map(({ line, unit, ours, theirs }) => ({
      workload: line,
      unit,
      "@spaces/eventstore": fmt(ours),
      "emmett-sqlite 0.38.5": fmt(theirs),
      "ours / theirs": `${(ours / theirs).toFixed(2)}×`
    }))
  )
  const behind = results.filter((r) => r.ours <= r.theirs)
  if (behind.length > 0) console.log(`behind on: ${behind.map((r) => r.line).join(", ")}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
