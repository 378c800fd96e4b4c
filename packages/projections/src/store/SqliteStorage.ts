import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import Database from "better-sqlite3"
import {
  type Checkpoint,
  type Commit,
  DELETED,
  type ProjectionStore,
  type ReadView,
  type StagedTx,
  type Tx,
  type Storage,
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

/** A row as stored (its JSON text), or as written by a staged commit (its value, encoded on publish). */
interface Stored {
  json: string | undefined
  value: unknown
}
const parsed = (stored: Stored): unknown => {
  if (stored.value === undefined) stored.value = JSON.parse(stored.json as string)
  return stored.value
}
const encoded = (stored: Stored): string => {
  if (stored.json === undefined) stored.json = JSON.stringify(stored.value)
  return stored.json
}

/**
 * Every row of one projection as stored (its JSON text), kept while the projection catches up from
 * a reset: the rows were all written through this store since the reset dropped them, so a key
 * missing here is missing in the database, and steps read without a query. Answers exactly as the
 * database does (values parsed from the same text, partitions in key order).
 */
class RowsCopy {
  /** table → partition → id → JSON, and its value once parsed (never changed: see `Tx.put`) */
  private readonly tables = new Map<string, Map<string, Map<string, Stored>>>()
  rows = 0

  put(table: string, part: string, id: string, json: string | undefined, value?: unknown) {
    let parts = this.tables.get(table)
    if (parts === undefined) {
      parts = new Map()
      this.tables.set(table, parts)
    }
    let rows = parts.get(part)
    if (rows === undefined) {
      rows = new Map()
      parts.set(part, rows)
    }
    const size = rows.size
    rows.set(id, { json, value })
    this.rows += rows.size - size
  }

  has(table: string, part: string, id: string) {
    return this.tables.get(table)?.get(part)?.has(id) === true
  }

  stored(table: string, part: string, id: string): Stored | undefined {
    return this.tables.get(table)?.get(part)?.get(id)
  }

  /** Puts back a row as it was (`undefined`: absent), undoing a write. */
  restore(table: string, part: string, id: string, stored: Stored | undefined) {
    if (stored === undefined) this.del(table, part, id)
    else this.put(table, part, id, stored.json, stored.value)
  }

  /**
   * Steps write here directly (staged): each write remembers the row it replaced until the next
   * `begin`, so that an event that fails half-way is undone.
   */
  staged(): StagedTx {
    const undo: Array<readonly [string, string, string, Stored | undefined]> = []
    const tx: Tx = {
      ...this.view,
      put: (table, part, id, value) => {
        undo.push([table, part, id, this.stored(table, part, id)])
        this.put(table, part, id, undefined, value)
      },
      del: (table, part, id) => {
        const before = this.stored(table, part, id)
        if (before === undefined) return
        undo.push([table, part, id, before])
        this.del(table, part, id)
      }
    }
    return {
      tx,
      begin: () => {
        undo.length = 0
      },
      rollback: () => {
        for (let i = undo.length - 1; i >= 0; i--) {
          const [table, part, id, stored] = undo[i] as readonly [string, string, string, Stored | undefined]
          this.restore(table, part, id, stored)
        }
        undo.length = 0
      }
    }
  }

  del(table: string, part: string, id: string) {
    const parts = this.tables.get(table)
    const rows = parts?.get(part)
    if (rows === undefined || !rows.delete(id)) return
    this.rows--
    if (rows.size === 0) parts?.delete(part)
  }

  /** Every row, in key order (near enough: UTF-16's), so that inserting them appends to the B-tree. */
  eachRow(f: (table: string, part: string, id: string, json: string) => void) {
    for (const table of [...this.tables.keys()].sort()) {
      const parts = this.tables.get(table) as Map<string, Map<string, Stored>>
      for (const part of [...parts.keys()].sort()) {
        const rows = parts.get(part) as Map<string, Stored>
        for (const id of rows.size > 1 ? [...rows.keys()].sort() : rows.keys())
          f(table, part, id, encoded(rows.get(id) as Stored))
      }
    }
  }

  readonly view: ReadView = {
    get: <V>(table: string, part: string, id: string) => {
      const stored = this.tables.get(table)?.get(part)?.get(id)
      return stored === undefined ? undefined : (parsed(stored) as V)
    },
    scan: <V>(table: string, part: string) => {
      const rows = this.tables.get(table)?.get(part)
      if (rows === undefined) return []
      const ids = [...rows.keys()].sort()
      if (ids.some((id) => SURROGATE.test(id))) ids.sort(byKey)
      return ids.map((id) => [id, parsed(rows.get(id) as Stored) as V] as const)
    }
  }
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
  const putMany = db.prepare<Array<string>>(
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
    let staged: { readonly version: number; position: number } | undefined
    /** `copy.staged()`, made once per staged reset. */
    let stagedTx: StagedTx | undefined

    /** The stored checkpoint is still the staged reset's: nobody else moved it. */
    const stillStaged = (version: number) => {
      const row = loadCheckpoint.get(name)
      return row !== undefined && row[0] === version && row[1] === 0
    }

    const stage = (
      into: RowsCopy,
      at: { readonly version: number; position: number },
      writes: Writes,
      from: number,
      to: number,
      version: number
    ): boolean => {
      if (from !== at.position || version !== at.version || !stillStaged(version)) return false
      for (const [table, parts] of writes)
        for (const [part, rows] of parts)
          for (const [id, value] of rows)
            if (value === DELETED) into.del(table, part, id)
            else into.put(table, part, id, undefined, value)
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

    const writeStaged = db.transaction(
      (rows: RowsCopy, at: { readonly version: number; position: number }) => {
        if (!stillStaged(at.version)) return false
        // Many rows per statement: one call into SQLite per `PUT_MANY` rows, not per row.
        const args: Array<string> = []
        rows.eachRow((table, part, id, json) => {
          args.push(ns(table), part, id, json)
          if (args.length === PUT_MANY * 4) {
            putMany.run(args)
            args.length = 0
          }
        })
        for (let i = 0; i < args.length; i += 4)
          putRow.run(args[i] as string, args[i + 1] as string, args[i + 2] as string, args[i + 3] as string)
        if (at.position > 0) moveCheckpoint.run(at.position, name, 0, at.version)
        return true
      }
    )

    /** Writes what is staged, then goes on as an ordinary store (its copy now matching the database). */
    const publish = (): boolean => {
      if (staged === undefined) return true
      const at = staged
      staged = undefined
      if (copy === undefined) return false
      let done = false
      try {
        done = writeStaged.immediate(copy, at)
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
        staged = undefined
        stagedTx = undefined
        reset.immediate(version)
        copy = new RowsCopy()
        if (options?.staged === true) staged = { version, position: 0 }
      },
      commit: (writes, from, to, version) =>
        commitAll([{ projection: name, writes, from, to, version }])[0] === true,
      stepRead: () => copy?.view,
      stagedTx: () => {
        if (staged === undefined || copy === undefined) return undefined
        stagedTx ??= copy.staged()
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
    return { store, write, settleCommit }
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
    close: () => {
      if (db.open) db.close()
    }
  }
}
