import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
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
