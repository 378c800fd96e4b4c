import { spawn } from "node:child_process"
import { mkdtempSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  defaultRoomRules,
  EventStore,
  type EventStoreShape,
  makeInMemoryEventStore,
  type UserId
} from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import Database from "better-sqlite3"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { makeReadModels, projections, queriesOf, type ReadModelsOptions } from "./ReadModelsLive.js"
import type { Projection } from "./runner/Projection.js"
import { rebuildProjection, rebuildProjections } from "./runner/rebuild.js"
import { makeMemoryStorage } from "./store/MemoryStorage.js"
import { makeSqliteStorage } from "./store/SqliteStorage.js"
import { snapshot } from "./testing/compare.js"
import { spaceCreatedData } from "./testing/rawEvents.js"
import { benchEvent, benchUser, spaceLife } from "./testing/benchLog.js"
import { seedLog } from "./testing/seed.js"

const NOW = Date.UTC(2026, 10, 25)
const root = new URL("../../..", import.meta.url).pathname
const tempDir = () => mkdtempSync(join(tmpdir(), "spaces-views-"))

const headOf = (store: EventStoreShape) => Stream.runFold(store.readAll(0), 0, (_, e) => e.position)

/** The views rebuilt in memory from the whole log: what every other path must converge to. */
const expected = (store: EventStoreShape) =>
  Effect.gen(function* () {
    const storage = makeMemoryStorage()
    yield* rebuildProjections(store, storage, projections({ fanOutThreshold: 1_000 }))
    return yield* snapshot(queriesOf(storage, defaultRoomRules), NOW)
  })

/** Runs the SQLite read models over `store` until they reach its head; answers their snapshot. */
const caughtUp = (
  store: EventStoreShape,
  viewsPath: string,
  options: ReadModelsOptions = { fanOutThreshold: 2 }
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const storage = yield* Effect.acquireRelease(
        Effect.sync(() => makeSqliteStorage({ path: viewsPath })),
        (s) => Effect.sync(s.close)
      )
      const readModels = yield* makeReadModels(storage, options).pipe(
        Effect.provideService(EventStore, store)
      )
      const head = yield* headOf(store)
      while ((yield* readModels.position) < head) yield* Effect.sleep("2 millis")
      return yield* snapshot(readModels, NOW)
    })
  )

/** Every stored row and checkpoint of a views file, in key order. */
const rowsOf = (viewsPath: string) => {
  const db = new Database(viewsPath, { readonly: true })
  try {
    return {
      rows: db
        .prepare<[], [string, string, string, string]>(
          "SELECT ns, part, id, value FROM rm_rows ORDER BY ns, part, id"
        )
        .raw(true)
        .all(),
      checkpoints: db.prepare("SELECT * FROM rm_checkpoints ORDER BY projection").raw(true).all()
    }
  } finally {
    db.close()
  }
}

/** Starts the views process, kills it with SIGKILL once it has printed `position >= at`. */
const killAt = (logPath: string, viewsPath: string, at: number) =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=@spaces/source",
        "--import",
        "tsx",
        "packages/projections/src/testing/viewsProcess.ts",
        logPath,
        viewsPath
      ],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] }
    )
    let buffer = ""
    let last = 0
    let killedAt: number | undefined
    child.stdout.on("data", (data: Buffer) => {
      buffer += data.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      // Line by line: the kill is decided at the first position that reaches `at`, not at the
      // last one of a chunk (a fast runner prints many positions per chunk).
      for (const line of lines) {
        last = Number(line.split(" ")[1] ?? 0)
        if (last >= at && killedAt === undefined) {
          killedAt = last
          child.kill("SIGKILL")
        }
      }
    })
    child.on("exit", () => resolve(killedAt ?? last))
    child.on("error", reject)
  })

/**
 * Appends a Space left live at the end, whose people are followed (the generated histories
 * rarely end with someone followed on air): the feed's inbox rows that survive a rebuild.
 */
const liveTail = (store: EventStoreShape) => {
  const at = Date.UTC(2026, 10, 25)
  const fans = ["fan0", "fan1", "fan2"].map((fan, f) =>
    store.append(
      `user-${fan}`,
      Array.from({ length: 12 }, (_, l) =>
        benchEvent(
          { _tag: "UserFollowed", user: benchUser(f), followee: `live${l * 5 + f}` as UserId, at },
          at
        )
      ),
      "any"
    )
  )
  const life = spaceLife({
    index: 900,
    at,
    host: "live0" as UserId,
    listener: (l) => `live${l}` as UserId,
    ends: false
  })
  return Effect.all([...fans, store.append("space-s900", life, "no_stream")], { discard: true })
}

describe("read models in SQLite", () => {
  it("equal the in-memory rebuild, and survive a restart from their checkpoints", async () => {
    const dir = tempDir()
    const store = makeSqliteEventStore({ path: join(dir, "log.sqlite"), pageSize: 64 })
    try {
      await Effect.runPromise(seedLog(store, 600, 7))
      const want = await Effect.runPromise(expected(store))
      expect(await Effect.runPromise(caughtUp(store, join(dir, "views.sqlite")))).toStrictEqual(want)
      // More history while stopped; the next start resumes from the checkpoints.
      await Effect.runPromise(seedLog(store, 300, 8))
      const later = await Effect.runPromise(expected(store))
      expect(await Effect.runPromise(caughtUp(store, join(dir, "views.sqlite")))).toStrictEqual(later)
    } finally {
      store.close()
    }
  })

  it("converge to the rebuild after the runner process is SIGKILLed at random points", async () => {
    const dir = tempDir()
    const logPath = join(dir, "log.sqlite")
    const viewsPath = join(dir, "views.sqlite")
    const store = makeSqliteEventStore({ path: logPath })
    try {
      await Effect.runPromise(seedLog(store, 20_000, 11))
      const head = await Effect.runPromise(headOf(store))
      expect(head).toBeGreaterThan(500)
      // Each kill lands at a random point past where the previous run got to, in the first half
      // of what is left, so that every run makes progress and is cut before the end.
      const killedAt: Array<number> = []
      let reached = 0
      for (let i = 0; i < 3; i++) {
        const at = reached + 1 + Math.floor(Math.random() * Math.max(1, (head - reached) / 2))
        reached = Math.min(await killAt(logPath, viewsPath, at), head - 1)
        killedAt.push(reached)
      }
      expect(killedAt.some((p) => p < head - 1)).toBe(true)
      const want = await Effect.runPromise(expected(store))
      expect(await Effect.runPromise(caughtUp(store, viewsPath))).toStrictEqual(want)
    } finally {
      store.close()
    }
  })

  it("resume each projection from its own checkpoint when they differ (one reader, one transaction per batch)", async () => {
    const dir = tempDir()
    const store = makeSqliteEventStore({ path: join(dir, "log.sqlite"), pageSize: 64 })
    try {
      await Effect.runPromise(seedLog(store, 400, 21))
      const viewsPath = join(dir, "views.sqlite")
      await Effect.runPromise(caughtUp(store, viewsPath))
      // The topics projection starts over (an operator's reset), the others keep their place;
      // more history comes in meanwhile.
      const storage = makeSqliteStorage({ path: viewsPath })
      const kept = storage.projection("rooms").checkpoint()?.position ?? 0
      expect(kept).toBeGreaterThan(0)
      storage.projection("topics").reset(1)
      storage.close()
      await Effect.runPromise(seedLog(store, 200, 22))
      expect(await Effect.runPromise(caughtUp(store, viewsPath))).toStrictEqual(
        await Effect.runPromise(expected(store))
      )
    } finally {
      store.close()
    }
  })

  it("a rebuild from scratch stores exactly the rows of the incremental catch-up, staged whole or published part-way", async () => {
    const dir = tempDir()
    const store = makeSqliteEventStore({ path: join(dir, "log.sqlite"), pageSize: 64 })
    try {
      await Effect.runPromise(seedLog(store, 2_000, 5))
      await Effect.runPromise(liveTail(store))
      // Thresholds of 2: most presences pulled, large notification audiences in streams; of
      // 1,000: every presence fanned out to the followers' inboxes (the feed's deferred rows).
      for (const [name, options] of [
        ["small", { fanOutThreshold: 2, notifications: { fanOutThreshold: 2 } }],
        ["large", { fanOutThreshold: 1_000 }]
      ] as const) {
        const incremental = join(dir, `${name}-incremental.sqlite`)
        const want = await Effect.runPromise(caughtUp(store, incremental, options))
        // copyMaxRows 20: each projection's staged rows go to the database once its copy
        // outgrows 20 rows, and the rest of the rebuild writes batch by batch.
        for (const [file, copyMaxRows] of [
          [`${name}-whole.sqlite`, undefined],
          [`${name}-part-way.sqlite`, 20]
        ] as const) {
          const path = join(dir, file)
          const storage = makeSqliteStorage(copyMaxRows === undefined ? { path } : { path, copyMaxRows })
          try {
            await Effect.runPromise(rebuildProjections(store, storage, projections(options)))
            expect(
              await Effect.runPromise(snapshot(queriesOf(storage, defaultRoomRules), NOW))
            ).toStrictEqual(want)
          } finally {
            storage.close()
          }
          const rebuilt = rowsOf(path)
          expect(rebuilt.rows.length).toBeGreaterThan(100)
          expect(rebuilt).toStrictEqual(rowsOf(incremental))
        }
        const count = (ns: string) => rowsOf(incremental).rows.filter((row) => row[0] === ns).length
        // Both kinds of rows are there to compare: inbox rows of Spaces live at the end, and
        // notifications in members' inboxes and in large audiences' streams.
        expect(count("feed.inbox")).toBeGreaterThan(10)
        expect(count("notifications.inbox")).toBeGreaterThan(5)
        if (name === "small") expect(count("notifications.stream")).toBeGreaterThan(0)
      }
    } finally {
      store.close()
    }
  })

  it("a staged reset keeps its commits out of the database until published, and refuses to publish over a moved checkpoint", () => {
    const path = join(tempDir(), "views.sqlite")
    const storage = makeSqliteStorage({ path })
    const other = makeSqliteStorage({ path })
    try {
      const row = (value: number) => new Map([["t", new Map([["p", new Map([["id", value]])]])]])
      const a = storage.projection("a")
      a.reset(1, { staged: true })
      expect(a.commit(row(1), 0, 7, 1)).toBe(true)
      expect(a.commit(row(2), 7, 9, 1)).toBe(true)
      // Staged: the database still holds the reset's empty projection at 0 (a crash restarts it).
      expect(other.projection("a").checkpoint()?.position).toBe(0)
      expect(other.projection("a").read.get("t", "p", "id")).toBeUndefined()
      expect(a.publish?.()).toBe(true)
      expect(other.projection("a").checkpoint()?.position).toBe(9)
      expect(other.projection("a").read.get("t", "p", "id")).toBe(2)

      a.reset(1, { staged: true })
      expect(a.commit(row(3), 0, 5, 1)).toBe(true)
      // Someone else (a second rebuild, another process) moves the checkpoint meanwhile.
      expect(other.projection("a").commit(row(4), 0, 3, 1)).toBe(true)
      expect(a.commit(row(5), 5, 6, 1)).toBe(false)
      expect(a.publish?.()).toBe(false)
      expect(other.projection("a").checkpoint()?.position).toBe(3)
      expect(other.projection("a").read.get("t", "p", "id")).toBe(4)
    } finally {
      other.close()
      storage.close()
    }
  })

  it("a published rebuild leaves the WAL emptied and already restarted, so that the next live commit does not pay for either", () => {
    const path = join(tempDir(), "views.sqlite")
    const storage = makeSqliteStorage({ path })
    try {
      const rows = new Map([
        ["t", new Map([["p", new Map(Array.from({ length: 20_000 }, (_, i) => [`id${i}`, i]))]])]
      ])
      const a = storage.projection("a")
      a.reset(1, { staged: true })
      expect(a.commit(rows, 0, 7, 1)).toBe(true)
      expect(a.publish?.()).toBe(true)
      // Moved into the database (not left in a WAL of hundreds of pages), and the WAL started
      // afresh with one small write: its header (which SQLite syncs on a restart) is written.
      const wal = statSync(`${path}-wal`).size
      expect(wal).toBeGreaterThan(32)
      expect(wal).toBeLessThan(5 * (4096 + 24) + 32)
      expect(a.checkpoint()).toStrictEqual({ version: 1, position: 7, error: null })
      expect(a.read.get("t", "p", "id19999")).toBe(19_999)
    } finally {
      storage.close()
    }
  })

  it("a staged rebuild stopped by a step that throws half-way keeps the events before it and nothing of that event", async () => {
    const store = makeInMemoryEventStore()
    const meta = { recordedAt: Date.UTC(2026, 0, 1) }
    await Effect.runPromise(
      store.append(
        "space-x",
        ["a", "b", "boom", "c"].map((title, i) => ({
          id: `${i}`,
          type: "SpaceCreated",
          data: { ...spaceCreatedData(`x${i}`, meta.recordedAt), title },
          metadata: meta
        })),
        "any"
      )
    )
    // Each event rewrites one shared row and adds its own; "boom" throws after both writes.
    const titles: Projection = {
      name: "titles",
      version: 1,
      handles: new Set(["SpaceCreated"]),
      step: (tx, event) => {
        if (event._tag !== "SpaceCreated") return
        tx.put("last", "", "", event.title)
        tx.put("all", "", event.spaceId, event.title)
        if (event.title === "boom") throw new Error("boom")
      }
    }
    const storage = makeSqliteStorage({ path: join(tempDir(), "views.sqlite") })
    try {
      const failure = await Effect.runPromise(Effect.flip(rebuildProjection(store, storage, titles)))
      expect(failure._tag).toBe("StepFailed")
      const read = storage.projection("titles")
      expect(read.checkpoint()?.position).toBe(2)
      expect(read.read.get("last", "", "")).toBe("b")
      expect(read.read.scan("all", "")).toEqual([
        ["x0", "a"],
        ["x1", "b"]
      ])
    } finally {
      storage.close()
    }
  })

  it("commit several projections in one transaction, each only from its own checkpoint", () => {
    const storage = makeSqliteStorage({ path: join(tempDir(), "views.sqlite") })
    try {
      for (const name of ["a", "b", "c"]) storage.projection(name).reset(1)
      const row = (value: number) => new Map([["t", new Map([["p", new Map([["id", value]])]])]])
      // b's checkpoint is not at 5: it is refused, and the others are committed all the same.
      expect(
        storage.commitAll([
          { projection: "a", writes: row(1), from: 0, to: 7, version: 1 },
          { projection: "b", writes: row(2), from: 5, to: 7, version: 1 },
          { projection: "c", writes: row(3), from: 0, to: 7, version: 1 }
        ])
      ).toEqual([true, false, true])
      expect(["a", "b", "c"].map((name) => storage.projection(name).checkpoint()?.position)).toEqual([
        7, 0, 7
      ])
      expect(["a", "b", "c"].map((name) => storage.projection(name).read.get("t", "p", "id"))).toEqual([
        1,
        undefined,
        3
      ])
    } finally {
      storage.close()
    }
  })

  it("a projection whose version changed is dropped and replayed from 0", async () => {
    const dir = tempDir()
    const store = makeSqliteEventStore({ path: join(dir, "log.sqlite") })
    try {
      await Effect.runPromise(seedLog(store, 300, 3))
      const viewsPath = join(dir, "views.sqlite")
      const want = await Effect.runPromise(caughtUp(store, viewsPath))
      // Another version left rows and a checkpoint behind: they must not survive.
      const storage = makeSqliteStorage({ path: viewsPath })
      const feed = storage.projection("feed")
      feed.reset(0)
      feed.commit(new Map([["inbox", new Map([["u1", new Map([["s9", { ghost: true }]])]])]]), 0, 5, 0)
      storage.close()
      expect(await Effect.runPromise(caughtUp(store, viewsPath))).toStrictEqual(want)
    } finally {
      store.close()
    }
  })
})
