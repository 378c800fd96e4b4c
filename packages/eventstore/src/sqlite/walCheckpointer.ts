import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"
import type Database from "better-sqlite3"

/** How often the background thread checkpoints each registered file. */
const INTERVAL_MS = 250

/**
 * The committing connection checkpoints by itself only past this many WAL pages (SQLite's default
 * is 1,000). Under writes that never pause, the background checkpoints never catch up with the
 * last frame, so the writer never restarts the WAL after them: this bounds the WAL (16 MiB), and
 * the writer's own checkpoint then copies only the frames written since the thread's last one.
 * It is also the safety net should the thread be gone.
 */
export const WAL_BACKSTOP_PAGES = 4_096

/**
 * Frames the WAL holds beyond the last checkpoint before the thread checkpoints it: SQLite's own
 * default threshold, so that the WAL restarts (and its writer syncs the restarted header) no more
 * often than without the thread. Checkpointing every few frames would make nearly every commit
 * after a quiet moment pay that sync.
 */
const CHECKPOINT_FRAMES = 1_000

/**
 * The background thread: one connection per registered file. Every `INTERVAL_MS` it reads how far
 * each WAL runs past its last checkpoint from the WAL-index header in the `-shm` file (`mxFrame`
 * at byte 16, `nBackfill` at byte 96, native byte order: SQLite's documented file format; a plain
 * read, no lock) and checkpoints the files past `CHECKPOINT_FRAMES` (or whose header it cannot
 * read). PASSIVE never waits for and never blocks the writer or readers of other connections, and
 * does not move their `PRAGMA data_version`. Plain CommonJS, evaluated as the worker's source, so
 * that it runs the same from TypeScript sources, compiled output and the bundle.
 *
 * The `-shm` file is opened once per registration and closed only once every connection of this
 * process to the file is closed: closing any descriptor of a file drops every POSIX lock the
 * process holds on it, and SQLite's locks on `-shm` are what keep another process's writer and
 * checkpoints off the pages this process is writing (closing it on every read corrupted a file two
 * processes wrote: see twoWriters.int.spec.ts).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads")
const { closeSync, openSync, readSync } = require("node:fs")
const { endianness } = require("node:os")
const Database = require(workerData.driver)
const files = new Map()
const header = Buffer.alloc(100)
const u32 = endianness() === "LE" ? (at) => header.readUInt32LE(at) : (at) => header.readUInt32BE(at)
const unCheckpointed = (path, file) => {
  try {
    if (file.shm === undefined) file.shm = openSync(path + "-shm", "r")
    if (readSync(file.shm, header, 0, 100, 0) < 100) return Infinity
    return u32(16) - u32(96)
  } catch {
    return Infinity
  }
}
const drop = (path) => {
  const file = files.get(path)
  files.delete(path)
  if (file === undefined) return
  try { if (file.db.open) file.db.close() } catch {}
  try { if (file.shm !== undefined) closeSync(file.shm) } catch {}
}
parentPort.on("message", (message) => {
  if (message.add !== undefined && !files.has(message.add)) {
    try { files.set(message.add, { db: new Database(message.add, { fileMustExist: true }), shm: undefined }) } catch {}
  }
  if (message.remove !== undefined) drop(message.remove)
})
setInterval(() => {
  for (const [path, file] of files) {
    if (unCheckpointed(path, file) < workerData.frames) continue
    try { file.db.pragma("wal_checkpoint(PASSIVE)") } catch { drop(path) }
  }
}, workerData.intervalMs)
`

let worker: Worker | undefined
/** Open handles per file: the thread keeps a file's connection while any of ours is open. */
const holders = new Map<string, number>()

const thread = (): Worker => {
  if (worker !== undefined) return worker
  const started = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      intervalMs: INTERVAL_MS,
      frames: CHECKPOINT_FRAMES
    }
  })
  // Never what keeps a process alive; if the thread dies, the committing connections' own
  // checkpoints (`WAL_BACKSTOP_PAGES`) keep the WAL bounded, and the next open starts a new one.
  started.unref()
  started.on("error", () => {
    if (worker === started) worker = undefined
  })
  started.on("exit", () => {
    if (worker === started) worker = undefined
  })
  for (const path of holders.keys()) started.postMessage({ add: path })
  worker = started
  return started
}

/**
 * Moves the WAL's checkpoints off the thread that commits. A checkpoint copies the WAL's pages into
 * the database file and syncs it to disk: on the committing connection (SQLite's default, every
 * 1,000 pages) that copy and its `fsync`s stall whatever else the process does, for 1–40 ms on a
 * busy disk. Here a worker thread with its own connection checkpoints each file once its WAL runs
 * 1,000 frames past the last checkpoint (it looks four times a second); the committing connection
 * only restarts the WAL afterwards (see `WAL_BACKSTOP_PAGES`). Commits, their durability and what
 * readers see are unchanged: a checkpoint only moves committed pages from one file to the other.
 *
 * Returns the release, to call once the connection is closed (not before: see `WORKER_SOURCE`). An
 * in-memory database has no WAL.
 */
export const checkpointInBackground = (db: Database.Database): (() => void) => {
  if (db.memory) return () => {}
  db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`)
  const file = db.name
  const held = holders.get(file) ?? 0
  holders.set(file, held + 1)
  // A thread started now is told of every held file, this one included.
  if (held === 0) {
    if (worker === undefined) thread()
    else worker.postMessage({ add: file })
  }
  let released = false
  return () => {
    if (released) return
    released = true
    const left = (holders.get(file) ?? 1) - 1
    if (left > 0) {
      holders.set(file, left)
      return
    }
    holders.delete(file)
    worker?.postMessage({ remove: file })
  }
}
