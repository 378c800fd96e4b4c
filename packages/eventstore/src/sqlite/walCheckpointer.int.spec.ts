import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { event } from "../contract/EventStoreContract.js"
import { makeSqliteEventStore } from "./SqliteEventStore.js"
import { WAL_BACKSTOP_PAGES } from "./walCheckpointer.js"

let dir: string
let path: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spaces-wal-"))
  path = join(dir, "events.sqlite")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const root = new URL("../../../..", import.meta.url).pathname

/** Whether another process can take the file's write lock right now (without waiting). */
const anotherProcessCanWrite = (file: string) =>
  spawnSync(
    process.execPath,
    [
      "-e",
      `const db = new (require("better-sqlite3"))(process.argv[1], { timeout: 0 })
       try { db.exec("BEGIN IMMEDIATE"); db.exec("ROLLBACK"); process.stdout.write("wrote") }
       catch (error) { process.stdout.write(error.code) }`,
      file
    ],
    { cwd: root, encoding: "utf8", timeout: 30_000 }
  ).stdout

/** Another process with the file open (so that its -shm outlives our connections) until `stop`. */
const keepOpenElsewhere = async (file: string) => {
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const db = new (require("better-sqlite3"))(process.argv[1])
       db.prepare("SELECT count(*) FROM events").get()
       process.stdout.write("open\\n")
       process.stdin.on("end", () => db.close()).resume()`,
      file
    ],
    { cwd: root, stdio: ["pipe", "pipe", "inherit"] }
  )
  await new Promise((resolve) => child.stdout.once("data", resolve))
  return () => child.stdin.end()
}

const PAGE = 4096
const bigEvents = (n: number) =>
  Array.from({ length: n }, (_, i) => event(`e${i}`, { text: "x".repeat(2_000) }))

describe("WAL checkpoints on a background thread", () => {
  it("moves committed pages into the database file while the committing connection does not checkpoint", async () => {
    const store = makeSqliteEventStore({ path })
    try {
      const before = statSync(path).size
      // About 2,000 pages of WAL: past the thread's threshold and what SQLite's default checkpoints
      // on the committing connection (1,000), under the backstop: only the thread can move them.
      for (let i = 0; i < 10; i++) await Effect.runPromise(store.append(`s${i}`, bigEvents(200), "no_stream"))
      const frames = statSync(`${path}-wal`).size / (PAGE + 24)
      expect(frames).toBeGreaterThan(1_500)
      expect(frames).toBeLessThan(WAL_BACKSTOP_PAGES)
      await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000 * PAGE), {
        timeout: 20_000,
        interval: 50
      })
      const events = await Effect.runPromise(store.readStream("s9"))
      expect(events).toHaveLength(200)
    } finally {
      store.close()
    }
  })

  // Closing any descriptor of a file drops every POSIX lock the process holds on it: a thread that
  // opened and closed the -shm file at each look let another process's writer in beside ours.
  it("never drops the locks this process holds on the file", async () => {
    const store = makeSqliteEventStore({ path })
    await Effect.runPromise(store.append("s", bigEvents(1), "no_stream"))
    const writer = new Database(path)
    try {
      writer.exec("BEGIN IMMEDIATE")
      writer.prepare("INSERT INTO checkpoints (name, position) VALUES ('held', 1)").run()
      expect(anotherProcessCanWrite(path)).toBe("SQLITE_BUSY")
      // Several of the thread's looks at the file while the write lock is held.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(anotherProcessCanWrite(path)).toBe("SQLITE_BUSY")
      writer.exec("COMMIT")
      expect(anotherProcessCanWrite(path)).toBe("wrote")
    } finally {
      writer.close()
      store.close()
    }
  })

  // The last release closes the descriptor before it returns: a store closed and opened again at
  // once must not lose its locks to a close that comes late.
  it("keeps this process's locks across a close and a reopen of the file", async () => {
    makeSqliteEventStore({ path }).close()
    const stop = await keepOpenElsewhere(path)
    try {
      for (let round = 0; round < 5; round++) {
        const first = makeSqliteEventStore({ path })
        await Effect.runPromise(first.append(`s${round}`, bigEvents(1), "no_stream"))
        // The thread has the file (it looks four times a second).
        await new Promise((resolve) => setTimeout(resolve, 300))
        first.close()
        const second = makeSqliteEventStore({ path })
        const writer = new Database(path)
        try {
          writer.exec("BEGIN IMMEDIATE")
          await new Promise((resolve) => setTimeout(resolve, 100))
          expect(anotherProcessCanWrite(path)).toBe("SQLITE_BUSY")
          writer.exec("ROLLBACK")
        } finally {
          writer.close()
          second.close()
        }
      }
    } finally {
      stop()
    }
  })

  it("lets go of the file when the store closes (the last connection removes the WAL)", async () => {
    const store = makeSqliteEventStore({ path })
    const before = statSync(path).size
    // Past the thread's threshold (1,000 frames), so that it checkpoints and so holds the file.
    for (let i = 0; i < 8; i++) await Effect.runPromise(store.append(`s${i}`, bigEvents(200), "no_stream"))
    // The background thread has its connection open once it has checkpointed these pages.
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before), {
      timeout: 20_000,
      interval: 50
    })
    store.close()
    await vi.waitFor(() => expect(existsSync(`${path}-wal`)).toBe(false), { timeout: 20_000, interval: 50 })
  })
})
