/**
 * Where read models live: rows addressed by (table, partition, id), holding JSON values. A
 * partition is the unit a query scans (a viewer's feed, a topic's Spaces); an id is a point lookup.
 * Each projection owns its tables (one namespace per projection), so that it can be dropped and
 * rebuilt alone; queries may read any projection's tables.
 */
export interface ReadView {
  readonly get: <V>(table: string, part: string, id: string) => V | undefined
  /** The rows of one partition, in no particular order. */
  readonly scan: <V>(table: string, part: string) => ReadonlyArray<readonly [id: string, value: V]>
  /**
   * What `derivation` makes of one partition's rows, kept between queries by a store that keeps
   * the rows (see `ReadCache`) and brought up to date from the rows written since, instead of made
   * again from every row. Absent: use `derivedScan`, which builds it from `scan` each time.
   */
  readonly derive?: <V, D>(table: string, part: string, derivation: Derivation<V, D>) => D
}

/**
 * A value made from every row of one partition (a viewer's feed candidates from their inbox rows),
 * which a store may keep and update from the rows that change (see `ReadView.derive`). `update`
 * must answer exactly what `build` would over the partition's rows now.
 */
export interface Derivation<V, D> {
  readonly build: (rows: ReadonlyArray<readonly [id: string, value: V]>) => D
  /**
   * `derived` after the rows `changed` were written (id → new value; undefined: deleted). May
   * change `derived` in place and answer it: the store never hands out the old one again.
   */
  readonly update: (derived: D, changed: ReadonlyMap<string, V | undefined>) => D
}

/** `view.derive` where the view has it, else `derivation` built from the partition's scan. */
export const derivedScan = <V, D>(
  view: ReadView,
  table: string,
  part: string,
  derivation: Derivation<V, D>
): D =>
  view.derive === undefined
    ? derivation.build(view.scan<V>(table, part))
    : view.derive(table, part, derivation)

/** What a projection step sees: the read model as of the previous event, and where to write. */
export interface Tx extends ReadView {
  /** Values are treated as immutable: never change an object after `put` or one returned by `get`. */
  readonly put: (table: string, part: string, id: string, value: unknown) => void
  readonly del: (table: string, part: string, id: string) => void
  /**
   * The tables whose writes this transaction drops, to be made once later (a staged rebuild's
   * `DeferredTables`): a step may skip working out what it would write to them.
   */
  readonly deferred?: ReadonlySet<string>
}

/**
 * Tables of a projection whose rows follow from its other rows alone (the feed's inboxes: who
 * follows whom, times who is live where). A staged rebuild does not keep them up to date event by
 * event: their writes are dropped during the pass, and `write` makes all of their rows once, from
 * the other tables' final rows, before the projection is stored. Rows that would come and go
 * during the pass (an inbox row per follower at every entry and exit) are then never made. The
 * projection's step must never read these tables, and `write` must give exactly the rows that
 * stepping through every event would have left.
 */
export interface DeferredTables {
  readonly tables: ReadonlySet<string>
  readonly write: (tx: WholeTx) => void
}

/** A `Tx` over rows that are all in memory, which can also list every row of a table. */
export interface WholeTx extends Tx {
  /** Every row of `table`, partition by partition, in no particular order. */
  readonly rows: <V>(table: string) => Iterable<readonly [part: string, id: string, value: V]>
}

/** Where a projection got to in the log, under which version of its code. */
export interface Checkpoint {
  readonly version: number
  readonly position: number
  /** Set when the projection stopped on an event it could not apply. */
  readonly error: string | null
}

/** A batch of writes: per table and partition, the new value of each id (`DELETED` to remove it). */
export const DELETED: unique symbol = Symbol("deleted")
export type Writes = Map<string, Map<string, Map<string, unknown>>>

export interface ProjectionStore {
  readonly read: ReadView
  readonly checkpoint: () => Checkpoint | undefined
  /**
   * Drops every row of the projection and starts it at position 0 under `version`. `staged` (a
   * rebuild from scratch, see `publish`): a store may then keep the commits that follow in memory,
   * the stored checkpoint staying at 0, until `publish` writes them all at once; if it does, it
   * makes the `deferred` tables' rows only then (see `DeferredTables`).
   */
  readonly reset: (
    version: number,
    options?: { readonly staged?: boolean; readonly deferred?: DeferredTables }
  ) => void
  /**
   * Applies `writes` and moves the checkpoint from `from` to `to`, atomically. Answers false (and
   * writes nothing) if the stored checkpoint is no longer `from`: someone else (another process,
   * an operator's rebuild) moved it, and the caller must reload.
   */
  readonly commit: (writes: Writes, from: number, to: number, version: number) => boolean
  readonly fail: (version: number, error: string) => void
  /**
   * What a step may read instead of `read`, when the store can answer without a query: a store may
   * keep a copy of the rows it wrote since `reset` (then it knows every row) until `settle`. It
   * answers exactly what `read` would. Undefined: read `read`.
   */
  readonly stepRead?: () => ReadView | undefined
  /**
   * Writes the rows and the checkpoint of the commits staged since a `staged` reset (the deferred
   * tables' rows made first), in one transaction. Answers false (and writes nothing) if the stored checkpoint moved meanwhile.
   * Answers true when nothing is staged.
   */
  readonly publish?: () => boolean
  /**
   * While a staged reset's commits are in memory: where a step may write straight into the staged
   * rows instead of a batch's `Overlay`, undoing a failed event's writes (`rollback`: back to the
   * last `begin`); the batch then commits empty `writes`. Undefined: step into an `Overlay`.
   */
  readonly stagedTx?: () => StagedTx | undefined
  /** Catching up is over (the runner is live, the rebuild done): drop what only served it (publishing what is staged). */
  readonly settle?: () => void
}

/** See `ProjectionStore.stagedTx`. */
export interface StagedTx {
  readonly tx: Tx
  /** An event starts: `rollback` undoes the writes from here on. */
  readonly begin: () => void
  readonly rollback: () => void
}

/** One projection's part of a `Storage.commitAll`. */
export interface Commit {
  readonly projection: string
  readonly writes: Writes
  readonly from: number
  readonly to: number
  readonly version: number
}

export interface Storage {
  readonly projection: (name: string) => ProjectionStore
  /**
   * Commits several projections' batches in one transaction, each as `ProjectionStore.commit`
   * does: answers, for each, whether it was committed (false: its checkpoint is no longer `from`,
   * and it wrote nothing; the others are committed all the same).
   */
  readonly commitAll: (commits: ReadonlyArray<Commit>) => ReadonlyArray<boolean>
  /**
   * Runs `read` (reads only) in one read transaction: one snapshot and one lock for a batch's
   * steps instead of one per row read. Absent: reads run as they come.
   */
  readonly snapshot?: <A>(read: () => A) => A
  /**
   * Runs one query: `view(name)` answers as `projection(name).read` does, from memory where the
   * store can (see `ReadCache`); a view is only valid during `read`. Absent: `projection(name).read`.
   */
  readonly query?: <A>(read: (view: (projection: string) => ReadView) => A) => A
  readonly close: () => void
}

/** Runs `read` as `storage.query` does, or over the plain read views of a store without one. */
export const queryOf = <A>(storage: Storage, read: (view: (projection: string) => ReadView) => A): A =>
  storage.query === undefined ? read((name) => storage.projection(name).read) : storage.query(read)

/**
 * Pending writes over a read view: a step reads its own writes. Reads that miss are cached, so
 * that a batch touching the same rows again and again asks the storage once.
 */
export class Overlay implements Tx {
  readonly writes: Writes = new Map()
  private readonly cache = new Map<string, unknown>()
  private readonly scans = new Map<string, ReadonlyArray<readonly [string, unknown]>>()

  /** `cached` false: the base answers from memory, caching its misses would only cost. */
  constructor(
    private readonly base: ReadView,
    private readonly cached = true
  ) {}

  private partition(table: string, part: string, create: true): Map<string, unknown>
  private partition(table: string, part: string, create: false): Map<string, unknown> | undefined
  private partition(table: string, part: string, create: boolean) {
    let parts = this.writes.get(table)
    if (parts === undefined) {
      if (!create) return undefined
      parts = new Map()
      this.writes.set(table, parts)
    }
    let rows = parts.get(part)
    if (rows === undefined && create) {
      rows = new Map()
      parts.set(part, rows)
    }
    return rows
  }

  get = <V>(table: string, part: string, id: string): V | undefined => {
    const pending = this.partition(table, part, false)
    if (pending?.has(id)) {
      const value = pending.get(id)
      return value === DELETED ? undefined : (value as V)
    }
    if (!this.cached) return this.base.get<V>(table, part, id)
    const key = `${table}\u0000${part}\u0000${id}`
    if (this.cache.has(key)) return this.cache.get(key) as V | undefined
    const value = this.base.get<V>(table, part, id)
    this.cache.set(key, value)
    return value
  }

  scan = <V>(table: string, part: string): ReadonlyArray<readonly [string, V]> => {
    const pending = this.partition(table, part, false)
    const key = `${table}\u0000${part}`
    let stored = this.scans.get(key) as ReadonlyArray<readonly [string, V]> | undefined
    if (stored === undefined) {
      stored = this.base.scan<V>(table, part)
      this.scans.set(key, stored)
    }
    if (pending === undefined) return stored
    const out: Array<readonly [string, V]> = []
    for (const row of stored) if (!pending.has(row[0])) out.push(row)
    for (const [id, value] of pending) if (value !== DELETED) out.push([id, value as V])
    return out
  }

  put = (table: string, part: string, id: string, value: unknown): void => {
    this.partition(table, part, true).set(id, value)
  }

  del = (table: string, part: string, id: string): void => {
    this.partition(table, part, true).set(id, DELETED)
  }

  get size(): number {
    let n = 0
    for (const parts of this.writes.values()) for (const rows of parts.values()) n += rows.size
    return n
  }
}
