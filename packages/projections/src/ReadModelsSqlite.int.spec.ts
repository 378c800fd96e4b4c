import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaultRoomRules, EventStore, type EventStoreShape } from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { makeReadModels, projections, queriesOf } from "./ReadModelsLive.js"
import { rebuildProjections } from "./runner/rebuild.js"
import { makeMemoryStorage } from "./store/MemoryStorage.js"
import { makeSqliteStorage } from "./store/SqliteStorage.js"
import { snapshot } from "./testing/compare.js"
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
const caughtUp = (store: EventStoreShape, viewsPath: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const storage = yield* Effect.acquireRelease(
        Effect.sync(() => makeSqliteStorage({ path: viewsPath })),
        (s) => Effect.sync(s.close)
      )
      const readModels = yield* makeReadModels(storage, { fanOutThreshold: 2 }).pipe(
        Effect.provideService(EventStore, store)
      )
      const head = yield* headOf(store)
      while ((yield* readModels.position) < head) yield* Effect.sleep("2 millis")
      return yield* snapshot(readModels, NOW)
    })
  )

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
