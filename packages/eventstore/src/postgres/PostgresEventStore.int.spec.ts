import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Fiber, Stream } from "effect"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  concurrentAppends,
  expectLogAfterConcurrentAppends,
  expectOwnOutcomes
} from "../contract/concurrentAppends.js"
import { event } from "../contract/EventStoreContract.js"
import { runCliForTest } from "../eventlog/runCliForTest.js"
import { makeSqliteEventStore } from "../sqlite/SqliteEventStore.js"
import { makePostgresEventStore } from "./PostgresEventStore.js"
import { type PostgresCluster, startPostgresCluster } from "./testing/cluster.js"

let cluster: PostgresCluster
beforeAll(async () => {
  cluster = await startPostgresCluster({ settings: { fsync: "off" } })
})
afterAll(() => cluster?.stop())

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const collect = <A, E>(stream: Stream.Stream<A, E>) =>
  run(Stream.runCollect(stream).pipe(Effect.map(Chunk.toReadonlyArray)))

/** Drops every connection the store holds (pool and LISTEN), as a failover or a restart would. */
const terminateSpacesConnections = async (url: string) => {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    const result = await admin.query(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = 'spaces' AND pid <> pg_backend_pid()"
    )
    return Number(result.rows[0].n)
  } finally {
    await admin.end()
  }
}

describe("PostgreSQL event store", () => {
  it("creates the schema once and opens it again idempotently, also when nodes start at once", async () => {
    const url = await cluster.createDatabase()
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => makePostgresEventStore({ connectionString: url }))
    )
    await run(stores[0]!.append("s", [event()], "no_stream"))
    await Promise.all(stores.map((s) => s.close()))
    const again = await makePostgresEventStore({ connectionString: url })
    try {
      expect(await run(again.readStream("s"))).toHaveLength(1)
      const admin = new pg.Client({ connectionString: url })
      await admin.connect()
      const version = await admin.query("SELECT version FROM spaces_schema")
      await admin.end()
      expect(version.rows).toEqual([{ version: 1 }])
    } finally {
      await again.close()
    }
  })

  it("refuses to open an unreachable database with EventStoreUnavailable-worthy error", async () => {
    await expect(
      makePostgresEventStore({
        connectionString: `postgresql://spaces@/nope?host=${encodeURIComponent(cluster.dir)}`
      })
    ).rejects.toThrow(/nope/)
  })

  it("concurrent appends share commits, each with its own outcome; one the database refuses fails alone", async () => {
    const store = await makePostgresEventStore({ connectionString: await cluster.createDatabase() })
    try {
      await run(store.append("shared", [event()], "no_stream"))
      // PostgreSQL text cannot hold NUL: the database refuses the last one.
      const tags = await run(concurrentAppends(store, store.append("bad\u0000name", [event()], "any")))
      expectOwnOutcomes(tags)
      expect(await run(store.readStream("shared"))).toHaveLength(2)
      expectLogAfterConcurrentAppends(await collect(store.readAll(0)))
    } finally {
      await store.close()
    }
  })

  it("keeps checkpoints", async () => {
    const store = await makePostgresEventStore({ connectionString: await cluster.createDatabase() })
    try {
      expect(await run(store.checkpoints.load("views"))).toBe(0)
      await run(store.checkpoints.save("views", 42))
      await run(store.checkpoints.save("views", 43))
      await run(store.checkpoints.save("other", 7))
      expect(await run(store.checkpoints.load("views"))).toBe(43)
      expect(await run(store.checkpoints.load("other"))).toBe(7)
    } finally {
      await store.close()
    }
  })

  it("a subscriber survives lost connections: it resumes from its last delivered event, no gap, no duplicate", async () => {
    const url = await cluster.createDatabase()
    const store = await makePostgresEventStore({ connectionString: url, retryBackoffMs: 20 })
    // Another node's appends: they reach the subscriber only through NOTIFY or a catch-up read.
    const other = await makePostgresEventStore({ connectionString: url, applicationName: "spaces-other" })
    try {
      const total = 60
      const subscriber = Effect.runFork(
        store
          .subscribeAll(0)
          .pipe(
            Stream.take(total),
            Stream.runCollect,
            Effect.map(Chunk.toReadonlyArray),
            Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("subscriber stalled") })
          )
      )
      let terminated = 0
      for (let i = 0; i < total; i++) {
        await run(other.append(`s-${i % 3}`, [event("Survived", { i })], "any"))
        // Drop every connection of the subscriber's store now and then, mid-stream.
        if (i % 15 === 7) terminated += await terminateSpacesConnections(url)
      }
      const delivered: ReadonlyArray<RecordedEvent> = await run(Fiber.join(subscriber))
      expect(terminated).toBeGreaterThan(0)
      expect(delivered.map((e) => (e.data as { i: number }).i)).toEqual(
        Array.from({ length: total }, (_, i) => i)
      )
      expect(delivered.map((e) => e.position)).toEqual(delivered.map((_, i) => i + 1))
      // Appends and reads work again on fresh connections.
      await run(store.append("after", [event()], "no_stream"))
      expect(await run(store.readStream("after"))).toHaveLength(1)
    } finally {
      await other.close()
      await store.close()
    }
  })

  it("a live subscriber ends with EventStoreUnavailable when its store is closed", async () => {
    const store = await makePostgresEventStore({ connectionString: await cluster.createDatabase() })
    const subscriber = Effect.runFork(Effect.either(Stream.runDrain(store.subscribeAll(0))))
    await run(Effect.sleep("100 millis"))
    await store.close()
    const outcome = await run(
      Fiber.join(subscriber).pipe(Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "hung" }))
    )
    expect(outcome._tag).toBe("Left")
  })

  it("the eventlog CLI moves a log from SQLite into PostgreSQL and back out, unchanged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-pg-eventlog-"))
    try {
      const sqlitePath = join(dir, "log.sqlite")
      const sqlite = makeSqliteEventStore({ path: sqlitePath })
      await run(sqlite.append("space-1", [event("SpaceCreated", { title: "ünïcode ✓ \u0000" })], "no_stream"))
      await run(sqlite.append("user-1", [event("UserFollowed"), event("UserFollowed")], "no_stream"))
      await run(sqlite.append("space-1", [event("ListenerJoined")], 0))
      await run(
        sqlite.append(
          "space-2",
          Array.from({ length: 2_500 }, (_, i) => event("ListenerJoined", { n: i })),
          "no_stream"
        )
      )
      sqlite.close()
      const url = await cluster.createDatabase()
      const cli = runCliForTest
      const out = join(dir, "out.jsonl")
      expect((await cli(["export", out], { SPACES_DB_PATH: sqlitePath })).code).toBe(0)
      const imported = await cli(["import", out], { SPACES_POSTGRES_URL: url })
      expect(imported.code, imported.stderr).toBe(0)
      expect(imported.stderr).toContain("PostgreSQL at postgresql://")
      // Importing again resumes: nothing is written twice.
      expect((await cli(["import", out], { EVENTSTORE_CONNECTION_STRING: url })).code).toBe(0)
      const back = join(dir, "back.jsonl")
      expect((await cli(["export", back], { SPACES_POSTGRES_URL: url })).code).toBe(0)
      // The same events, stream revisions and positions (the importer normalises metadata's key order).
      const lines = (file: string) =>
        readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line))
      expect(lines(back)).toEqual(lines(out))
      const store = await makePostgresEventStore({ connectionString: url })
      try {
        expect(await collect(store.readAll(0))).toHaveLength(2_504)
      } finally {
        await store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
