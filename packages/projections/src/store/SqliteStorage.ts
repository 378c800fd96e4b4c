import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import Database from "better-sqlite3"
import { checkpointInBackground } from "@spaces/eventstore"
import { type JsonRows, ReadCache } from "./ReadCache.js"
import {
  type Checkpoint,
  type Commit,
  DELETED,
  type DeferredTables,
  type ProjectionStore,
  type ReadView,
  type StagedTx,
  type Tx,
  type Storage,
  type WholeTx,
  type Writes
} from "./Storage.js"

/**
 * Read models in their own SQLite file (not the event log's): a rebuild's long transactions never
 * hold the log's write lock, and deleting this file is always a safe reset (everything in it is
 * derived). One table holds every row; `ns` is `<projection>.<table>`, so a projection's rows are
 * one key range and dropping it is one range delete. The checkpoint sits in the same file and is
 * moved in the same transaction as the rows it covers.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS rm_rows (
  ns    TEXT NOT NULL,
  part  TEXT NOT NULL,
  id    TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (ns, part, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rm_checkpoints (
  projection TEXT PRIMARY KEY,
  version    INTEGER NOT NULL,
  position   INTEGER NOT NULL,
  error      TEXT
) WITHOUT ROWID;
`

/**
 * The most rows a projection keeps in memory while it catches up from a reset (see `RowsCopy`);
 * past it, it drops the copy and reads from the database again.
 */
const COPY_MAX_ROWS = 2_000_000

/** Rows per statement when a staged projection is written (4 parameters each, under SQLite's limit). */
const PUT_MANY = 64

const SURROGATE = /[\ud800-\udfff]/

/** SQLite's order of TEXT keys (BINARY: UTF-8 bytes, that is code points), not UTF-16's. */
const byKey = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    // A surrogate is part of a code point above U+FFFF: after every code unit that is not one.
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

/** A row as stored: its JSON text, and its value once parsed (never changed: see `Tx.put`). */
class Stored {
  value: unknown = undefined
  constructor(readonly json: string) {}
}

/**
 * A row of the copy: as stored (a `Stored`), or as a staged step wrote it (the value itself: no
 * wrapper and no JSON until the projection is written to the database). Never `undefined`.
 */
const rowValue = (row: unknown): unknown => {
  if (!(row instanceof Stored)) return row
  if (row.value === undefined) row.value = JSON.parse(row.json)
  return row.value
}

/**
 * One partition's rows, with its last scan kept until a write changes them: a follower list is
 * scanned at every entry and exit of the person followed, and written only by follows.
 */
class Rows extends Map<string, unknown> {
  scanned: ReadonlyArray<readonly [string, unknown]> | undefined = undefined
}
type Parts = Map<string, Rows>

/** Keys already in ascending order (often so: ids written in the log's order), which need no sort. */
const inOrder = (keys: Iterable<string>): boolean => {
  let previous: string | undefined
  for (const key of keys) {
    if (previous !== undefined && key < previous) return false
    previous = key
  }
  return true
}

const byFirst = (a: readonly [string, unknown], b: readonly [string, unknown]) =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0

/** A map's entries in key order: the map itself when its keys already are (a single row often is). */
const inKeyOrder = <V>(map: Map<string, V>): Iterable<[string, V]> =>
  map.size < 2 || inOrder(map.keys()) ? map : [...map].sort(byFirst)

/**
 * Every row of one projection, kept while the projection catches up from a reset: the rows were
 * all written through this store since the reset dropped them, so a key missing here is missing in
 * the database, and steps read without a query. Answers exactly as the database does (partitions
 * in key order). Nested maps (table → partition → id), so that a read or write hashes the short
 * keys the step already has, never a concatenation of them.
 */
class RowsCopy {
  private readonly tables = new Map<string, Parts>()
  rows = 0

  private partsOf(table: string): Parts {
    let parts = this.tables.get(table)
    if (parts === undefined) {
      parts = new Map()
      this.tables.set(table, parts)
    }
    return parts
  }

  /** Sets a row (`row`: a `Stored`, or a staged value); answers the row it replaced, if any. */
  set(table: string, part: string, id: string, row: unknown): unknown {
    const parts = this.partsOf(table)
    let rows = parts.get(part)
    if (rows === undefined) {
      rows = new Rows()
      parts.set(part, rows)
    }
    const before = rows.get(id)
    rows.set(id, row)
    if (rows.scanned !== undefined) rows.scanned = undefined
    if (before === undefined) this.rows++
    return before
  }

  put(table: string, part: string, id: string, json: string) {
    this.set(table, part, id, new Stored(json))
  }

  has(table: string, part: string, id: string) {
    return this.tables.get(table)?.get(part)?.has(id) === true
  }

  /** Removes a row; answers the row it removed, if any. */
  del(table: string, part: string, id: string): unknown {
    const parts = this.tables.get(table)
    const rows = parts?.get(part)
    const before = rows?.get(id)
    if (parts === undefined || rows === undefined || before === undefined) return undefined
    rows.delete(id)
    rows.scanned = undefined
    this.rows--
    // An emptied partition stays (an empty map), for the next write to it: a listener's presence,
    // a viewer's inbox come and go with every entry and exit, and a map per entry is garbage.
    return before
  }

  /**
   * Steps write here directly (staged), their values kept as they are. Each write remembers the
   * row it replaced until the next `begin` (four slots of a flat array, no object per write), so
   * that an event that fails half-way is undone.
   */
  staged(deferred: ReadonlySet<string> | undefined): StagedTx {
    // Its length is `n`, not the array's: emptying an array frees its storage, and every event
    // would allocate it again.
    const undo: Array<unknown> = []
    let n = 0
    const remember = (table: string, part: string, id: string, before: unknown) => {
      undo[n] = table
      undo[n + 1] = part
      undo[n + 2] = id
      undo[n + 3] = before
      n += 4
    }
    const tx: Tx = {
      get: this.view.get,
      scan: this.view.scan,
      ...(deferred === undefined ? {} : { deferred }),
      put: (table, part, id, value) => {
        if (deferred?.has(table) === true) return
        remember(table, part, id, this.set(table, part, id, value))
      },
      del: (table, part, id) => {
        if (deferred?.has(table) === true) return
        const before = this.del(table, part, id)
        if (before !== undefined) remember(table, part, id, before)
      }
    }
    return {
      tx,
      begin: () => {
        n = 0
      },
      rollback: () => {
        // Newest first: each row back to what it was before the event's first write to it.
        for (let i = n - 4; i >= 0; i -= 4) {
          const table = undo[i] as string
          const part = undo[i + 1] as string
          const id = undo[i + 2] as string
          const before = undo[i + 3]
          if (before === undefined) this.del(table, part, id)
          else this.set(table, part, id, before)
        }
        n = 0
      }
    }
  }

  /** Writes straight into the rows (no undo), and lists a table's rows: a deferred table's `write`. */
  whole(): WholeTx {
    const tables = this.tables
    return {
      get: this.view.get,
      scan: this.view.scan,
      put: (table, part, id, value) => {
        this.set(table, part, id, value)
      },
      del: (table, part, id) => {
        this.del(table, part, id)
      },
      rows: function* <V>(table: string) {
        for (const [part, rows] of tables.get(table) ?? [])
          for (const [id, row] of rows) yield [part, id, rowValue(row) as V] as const
      }
    }
  }

  /**
   * Every row, in key order (near enough: UTF-16's), so that inserting them appends to the B-tree.
   * A value object written to several rows (a notification, one row per member) is encoded once.
   */
  eachRow(f: (table: string, part: string, id: string, json: string) => void) {
    const encoded = new Map<object, string>()
    const jsonOf = (row: unknown): string => {
      if (row instanceof Stored) return row.json
      if (typeof row !== "object" || row === null) return JSON.stringify(row)
      let json = encoded.get(row)
      if (json === undefined) {
        json = JSON.stringify(row)
        encoded.set(row, json)
      }
      return json
    }
    for (const table of [...this.tables.keys()].sort()) {
      // Entries, not keys looked up again: a lookup in a map of 100,000 partitions is a cache miss.
      for (const [part, rows] of inKeyOrder(this.tables.get(table) as Parts))
        if (rows.size > 0) for (const [id, row] of inKeyOrder(rows)) f(table, part, id, jsonOf(row))
    }
  }

  readonly view: ReadView = {
    get: <V>(table: string, part: string, id: string) =>
      rowValue(this.tables.get(table)?.get(part)?.get(id)) as V | undefined,
    scan: <V>(table: string, part: string) => {
      const rows = this.tables.get(table)?.get(part)
      if (rows === undefined) return []
      if (rows.scanned === undefined) {
        const ids = [...rows.keys()].sort()
        if (ids.some((id) => SURROGATE.test(id))) ids.sort(byKey)
        rows.scanned = ids.map((id) => [id, rowValue(rows.get(id))] as const)
      }
      return rows.scanned as ReadonlyArray<readonly [string, V]>
    }
  }
}

/** Where a staged reset's commits got to (the stored checkpoint stays at 0), and its deferred tables. */
interface StagedAt {
  readonly version: number
  position: number
  readonly deferred?: DeferredTables
}

export interface SqliteStorageOptions {
  /** The read models' database file (created with its directory), or `":memory:"`. */
  readonly path: string
  /** The most rows a projection keeps in memory while it catches up from a reset (default 2,000,000). */
  readonly copyMaxRows?: number
}

export const makeSqliteStorage = (options: SqliteStorageOptions): Storage => {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true })
  const db = new Database(options.path)
  db.pragma("journal_mode = WAL")
  // Everything here can be rebuilt from the log: no fsync per commit.
  db.pragma("synchronous = NORMAL")
  db.pragma("busy_timeout = 5000")
  db.pragma("cache_size = -65536")
  db.exec(DDL)
  const stopCheckpointing = checkpointInBackground(db)
  const copyMaxRows = options.copyMaxRows ?? COPY_MAX_ROWS

  const getRow = db
    .prepare<[string, string, string], string>(
      "SELECT value FROM rm_rows WHERE ns = ? AND part = ? AND id = ?"
    )
    .pluck(true)
  const scanRows = db
    .prepare<[string, string], [string, string]>("SELECT id, value FROM rm_rows WHERE ns = ? AND part = ?")
    .raw(true)
  const putRow = db.prepare<[string, string, string, string]>(
    "INSERT OR REPLACE INTO rm_rows (ns, part, id, value) VALUES (?, ?, ?, ?)"
  )
  const putMany = db.prepare<[ReadonlyArray<string>]>(
    `INSERT OR REPLACE INTO rm_rows (ns, part, id, value) VALUES ${Array.from({ length: PUT_MANY }, () => "(?, ?, ?, ?)").join(", ")}`
  )
  const markCheckpoint = db.prepare<[string | null, string]>(
    "UPDATE rm_checkpoints SET error = ? WHERE projection = ?"
  )
  /** A write that changes nothing in the end but writes a page (rewriting a same value writes none). */
  const rewriteCheckpoint = db.transaction((projection: string) => {
    markCheckpoint.run("", projection)
    markCheckpoint.run(null, projection)
  })
  /**
   * After a write of a whole projection: its pages are moved from the WAL into the database and
   * the WAL is emptied now, in the rebuild's time, and one small write starts the WAL afresh
   * (SQLite syncs a restarted WAL's header to disk). Otherwise the first live commit after the
   * rebuild pays for both: the checkpoint of everything and that sync (1–40 ms on a busy disk,
   * where a live commit costs well under 1 ms).
   */
  const settleWal = (projection: string) => {
    db.pragma("wal_checkpoint(TRUNCATE)")
    rewriteCheckpoint.immediate(projection)
  }
  const delRow = db.prepare<[string, string, string]>(
    "DELETE FROM rm_rows WHERE ns = ? AND part = ? AND id = ?"
  )
  const dropRows = db.prepare<[string, string]>("DELETE FROM rm_rows WHERE ns >= ? AND ns < ?")
  const loadCheckpoint = db
    .prepare<[string], [number, number, string | null]>(
      "SELECT version, position, error FROM rm_checkpoints WHERE projection = ?"
    )
    .raw(true)
  const setCheckpoint = db.prepare<[string, number, number, string | null]>(
    "INSERT OR REPLACE INTO rm_checkpoints (projection, version, position, error) VALUES (?, ?, ?, ?)"
  )
  const moveCheckpoint = db.prepare<[number, string, number, number]>(
    "UPDATE rm_checkpoints SET position = ?, error = NULL WHERE projection = ? AND position = ? AND version = ?"
  )

  /** One projection's rows: its public store, and its part of a transaction over several. */
  interface Rows {
    readonly store: ProjectionStore
    /** The rows as stored (JSON text), for the query cache. */
    readonly json: JsonRows
    /** Within a transaction: applies `writes` and moves the checkpoint; false if it had moved. */
    readonly write: (writes: Writes, from: number, to: number, version: number) => boolean
    /** After the transaction: whether `write` was committed (false: refused or rolled back). */
    readonly settleCommit: (committed: boolean) => void
  }

  const make = (name: string): Rows => {
    const ns = (table: string) => `${name}.${table}`
    const read: ReadView = {
      get: <V>(table: string, part: string, id: string) => {
        const value = getRow.get(ns(table), part, id)
        return value === undefined ? undefined : (JSON.parse(value) as V)
      },
      scan: <V>(table: string, part: string) => {
        // The rows are ours (fresh arrays): parsed in place, not copied (a feed query scans ~1,000).
        const rows = scanRows.all(ns(table), part) as Array<[string, unknown]>
        for (const row of rows) row[1] = JSON.parse(row[1] as string)
        return rows as ReadonlyArray<readonly [string, V]>
      }
    }

    // Set by a reset, dropped by `settle`, a failed or refused commit, or when it grows too big.
    let copy: RowsCopy | undefined
    /**
     * Set by a staged reset: the commits since then live in `copy` alone (their rows as values,
     * encoded once on publish; a row put and deleted before it is never written), and `position`
     * is where they got to; the stored checkpoint stays at 0 until `publish`.
     */
    let staged: StagedAt | undefined
    /** `copy.staged()`, made once per staged reset. */
    let stagedTx: StagedTx | undefined

    /** The stored checkpoint is still the staged reset's: nobody else moved it. */
    const stillStaged = (version: number) => {
      const row = loadCheckpoint.get(name)
      return row !== undefined && row[0] === version && row[1] === 0
    }

    const stage = (
      into: RowsCopy,
      at: StagedAt,
      writes: Writes,
      from: number,
      to: number,
      version: number
    ): boolean => {
      if (from !== at.position || version !== at.version || !stillStaged(version)) return false
      const deferred = at.deferred?.tables
      for (const [table, parts] of writes)
        if (deferred?.has(table) !== true)
          for (const [part, rows] of parts)
            for (const [id, value] of rows)
              if (value === DELETED) into.del(table, part, id)
              else into.set(table, part, id, value)
      at.position = to
      return true
    }

    const write = (writes: Writes, from: number, to: number, version: number): boolean => {
      if (staged !== undefined && copy !== undefined) return stage(copy, staged, writes, from, to, version)
      if (moveCheckpoint.run(to, name, from, version).changes !== 1) return false
      // Sorted (UTF-16 order: near enough to SQLite's), so that writes land next to each other.
      for (const table of [...writes.keys()].sort()) {
        const space = ns(table)
        const parts = writes.get(table) as Map<string, Map<string, unknown>>
        for (const part of [...parts.keys()].sort()) {
          const rows = parts.get(part) as Map<string, unknown>
          for (const id of rows.size > 1 ? [...rows.keys()].sort() : rows.keys()) {
            const value = rows.get(id)
            if (value === DELETED) {
              // Known absent (put and deleted within the batch): nothing to delete.
              if (copy !== undefined && !copy.has(table, part, id)) continue
              delRow.run(space, part, id)
              copy?.del(table, part, id)
            } else {
              const json = JSON.stringify(value)
              putRow.run(space, part, id, json)
              copy?.put(table, part, id, json)
            }
          }
        }
      }
      return true
    }

    const settleCommit = (committed: boolean) => {
      // Rolled back or refused (someone else moved the checkpoint): the copy may be wrong, and
      // what was staged is lost (`publish` answers false).
      if (!committed) copy = undefined
      else if (copy !== undefined && copy.rows > copyMaxRows) {
        // Too big to keep: what is staged goes to the database, and the steps read from it again.
        if (staged !== undefined) publish()
        copy = undefined
      }
    }

    const reset = db.transaction((version: number) => {
      // "." < "/" in ASCII: [name + ".", name + "/") is exactly this projection's namespaces.
      dropRows.run(`${name}.`, `${name}/`)
      setCheckpoint.run(name, version, 0, null)
    })

    const writeStaged = db.transaction((rows: RowsCopy, at: StagedAt) => {
      if (!stillStaged(at.version)) return false
      // Many rows per statement: one call into SQLite per `PUT_MANY` rows, not per row.
      const args: Array<string> = []
      let table = ""
      let space = ""
      rows.eachRow((t, part, id, json) => {
        if (t !== table) {
          table = t
          space = ns(t)
        }
        args.push(space, part, id, json)
        if (args.length === PUT_MANY * 4) {
          putMany.run(args)
          args.length = 0
        }
      })
      for (let i = 0; i < args.length; i += 4)
        putRow.run(args[i] as string, args[i + 1] as string, args[i + 2] as string, args[i + 3] as string)
      if (at.position > 0) moveCheckpoint.run(at.position, name, 0, at.version)
      return true
    })

    /** Writes what is staged, then goes on as an ordinary store (its copy now matching the database). */
    const publish = (): boolean => {
      if (staged === undefined) return true
      const at = staged
      staged = undefined
      if (copy === undefined) return false
      let done = false
      try {
        at.deferred?.write(copy.whole())
        done = writeStaged.immediate(copy, at)
        // Queries made while it was staged cached what was there then (nothing): forget it.
        if (done) cache.dropProjection(name)
        if (done && !db.inTransaction) settleWal(name)
        return done
      } finally {
        if (!done) copy = undefined
      }
    }

    const store: ProjectionStore = {
      read,
      checkpoint: (): Checkpoint | undefined => {
        const row = loadCheckpoint.get(name)
        return row === undefined ? undefined : { version: row[0], position: row[1], error: row[2] }
      },
      reset: (version, options) => {
        copy = undefined
        cache.dropProjection(name)
        staged = undefined
        stagedTx = undefined
        reset.immediate(version)
        copy = new RowsCopy()
        const deferred = options?.deferred
        if (options?.staged === true)
          staged = deferred === undefined ? { version, position: 0 } : { version, position: 0, deferred }
      },
      commit: (writes, from, to, version) =>
        commitAll([{ projection: name, writes, from, to, version }])[0] === true,
      stepRead: () => copy?.view,
      stagedTx: () => {
        if (staged === undefined || copy === undefined) return undefined
        stagedTx ??= copy.staged(staged.deferred?.tables)
        return stagedTx
      },
      publish,
      settle: () => {
        try {
          publish()
        } finally {
          copy = undefined
        }
      },
      fail: (version, error) => {
        copy = undefined
        staged = undefined
        const position = loadCheckpoint.get(name)?.[1] ?? 0
        setCheckpoint.run(name, version, position, error)
      }
    }
    const json: JsonRows = {
      get: (table, part, id) => getRow.get(ns(table), part, id),
      scan: (table, part) => scanRows.all(ns(table), part)
    }
    return { store, json, write, settleCommit }
  }

  // The rows queries read, kept parsed between queries. Our own commits tell it what they change
  // (`commitAll`, `reset`); `PRAGMA data_version` moves when another connection (another process
  // sharing this file) commits, and then it forgets everything.
  const cache = new ReadCache(byKey)
  const dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck(true)
  let seenVersion = dataVersion.get()
  const cachedViews = new Map<string, ReadView>()
  const cachedView = (name: string) => {
    let view = cachedViews.get(name)
    if (view === undefined) {
      view = cache.view(name, rowsOf(name).json)
      cachedViews.set(name, view)
    }
    return view
  }

  const projections = new Map<string, Rows>()
  const rowsOf = (name: string) => {
    let rows = projections.get(name)
    if (rows === undefined) {
      rows = make(name)
      projections.set(name, rows)
    }
    return rows
  }

  const writeAll = db.transaction((commits: ReadonlyArray<Commit>) =>
    commits.map((c) => rowsOf(c.projection).write(c.writes, c.from, c.to, c.version))
  )
  /** One transaction for every projection's batch: one commit (one WAL sync point) per batch of the log. */
  const commitAll = (commits: ReadonlyArray<Commit>): ReadonlyArray<boolean> => {
    if (commits.length === 0) return []
    let done: ReadonlyArray<boolean> | undefined
    try {
      done = writeAll.immediate(commits)
      return done
    } finally {
      commits.forEach((c, i) => {
        rowsOf(c.projection).settleCommit(done?.[i] === true)
        if (done?.[i] === true) cache.written(c.projection, c.writes)
      })
    }
  }

  // Deferred: a read transaction, ended before `commitAll` takes the write lock (the checkpoint
  // check there still refuses a batch stepped over rows another writer changed).
  const readTransaction = db.transaction((read: () => unknown) => read())

  return {
    projection: (name) => rowsOf(name).store,
    commitAll,
    snapshot: <A>(read: () => A): A => (db.inTransaction ? read() : (readTransaction(read) as A)),
    query: <A>(read: (view: (projection: string) => ReadView) => A): A => {
      const version = dataVersion.get()
      if (version !== seenVersion) {
        cache.clear()
        seenVersion = version
      }
      return read(cachedView)
    },
    close: () => {
      if (db.open) db.close()
      stopCheckpointing()
    }
  }
}
