import { closeSync, openSync, realpathSync } from "node:fs"
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
 * It reads `-shm` through a descriptor the main thread opened, and never closes one: closing any
 * descriptor of a file drops every POSIX lock the process holds on it, and SQLite's locks on `-shm`
 * are what keep another process's writer and checkpoints off the pages this process is writing
 * (a thread that opened and closed it at each look let two processes corrupt a file they both
 * wrote). A failed checkpoint closes only its connection. Each `remove` is counted in `removed`
 * once the thread's connection to the file is closed: the main thread waits for that before it
 * closes the descriptor (see `checkpointInBackground`).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads")
const { readSync } = require("node:fs")
const { endianness } = require("node:os")
const Database = require(workerData.driver)
const removed = new Int32Array(workerData.removed)
const files = new Map()
const header = Buffer.alloc(100)
const u32 = endianness() === "LE" ? (at) => header.readUInt32LE(at) : (at) => header.readUInt32BE(at)
const unCheckpointed = (file) => {
  if (file.shm === undefined) return Infinity
  try {
    if (readSync(file.shm, header, 0, 100, 0) < 100) return Infinity
    return u32(16) - u32(96)
  } catch {
    return Infinity
  }
}
const disconnect = (file) => {
  try { if (file.db !== undefined && file.db.open) file.db.close() } catch {}
  file.db = undefined
}
parentPort.on("message", (message) => {
  if (message.add !== undefined && !files.has(message.add)) {
    let db
    try { db = new Database(message.add, { fileMustExist: true }) } catch {}
    files.set(message.add, { db, shm: message.shm })
  }
  if (message.remove !== undefined) {
    const file = files.get(message.remove)
    files.delete(message.remove)
    if (file !== undefined) disconnect(file)
    Atomics.add(removed, 0, 1)
    Atomics.notify(removed, 0)
  }
})
setInterval(() => {
  for (const file of files.values()) {
    if (file.db === undefined || unCheckpointed(file) < workerData.frames) continue
    try { file.db.pragma("wal_checkpoint(PASSIVE)") } catch { disconnect(file) }
  }
}, workerData.intervalMs)
`

/**
 * How long a release waits for the thread to close its connection before giving up on closing the
 * descriptor (a descriptor left open is safe; one closed under a connection is not).
 */
const RELEASE_WAIT_MS = 5_000

/** A file some connection of this process has open: how many, and our descriptor of its `-shm`. */
interface Held {
  count: number
  readonly shm: number | undefined
}

let worker: Worker | undefined
/** By real path (two spellings of one file are one file): what the thread must know of. */
const holders = new Map<string, Held>()
/** How many `remove`s the thread has carried out, in memory shared with it. */
const removed = new Int32Array(new SharedArrayBuffer(4))

const thread = (): Worker => {
  if (worker !== undefined) return worker
  const started = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      intervalMs: INTERVAL_MS,
      frames: CHECKPOINT_FRAMES,
      removed: removed.buffer
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
  for (const [path, held] of holders) started.postMessage({ add: path, shm: held.shm })
  worker = started
  return started
}

const openShm = (file: string): number | undefined => {
  try {
    return openSync(`${file}-shm`, "r")
  } catch {
    // The thread then checkpoints at each look: more often than needed, never wrong.
    return undefined
  }
}

/** Starts holding `file`: our descriptor of its `-shm`, and the thread told of it. */
const hold = (file: string): Held => {
  const held: Held = { count: 0, shm: openShm(file) }
  holders.set(file, held)
  // A thread started now is told of every held file, this one included.
  if (worker === undefined) thread()
  else worker.postMessage({ add: file, shm: held.shm })
  return held
}

/**
 * Closes our descriptor of a file no connection of ours has open any more, once the thread has
 * closed its own connection to it; if the thread does not answer in time, the descriptor stays open.
 */
const letGo = (file: string, held: Held) => {
  const current = worker
  if (current !== undefined) {
    const before = Atomics.load(removed, 0)
    current.postMessage({ remove: file })
    const deadline = Date.now() + RELEASE_WAIT_MS
    while (Atomics.load(removed, 0) === before) {
      const left = deadline - Date.now()
      if (left <= 0) return
      Atomics.wait(removed, 0, before, left)
    }
  }
  if (held.shm !== undefined) closeSync(held.shm)
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
 * Returns the release, to call once the connection is closed: the last release of a file closes
 * this process's descriptor of its `-shm`, which drops the process's locks on it, so every other
 * connection of the process to the file must be closed by then (see `WORKER_SOURCE`). An in-memory
 * database has no WAL.
 */
export const checkpointInBackground = (db: Database.Database): (() => void) => {
  if (db.memory) return () => {}
  db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`)
  const file = realpathSync(db.name)
  const held = holders.get(file) ?? hold(file)
  held.count++
  let released = false
  return () => {
    if (released) return
    released = true
    held.count--
    if (held.count > 0) return
    holders.delete(file)
    letGo(file, held)
  }
}
