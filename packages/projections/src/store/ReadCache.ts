import { DELETED, type Derivation, type ReadView, type Writes } from "./Storage.js"

/** A row known to be absent. */
const ABSENT: unique symbol = Symbol("absent")

/** What the cache reads from: one projection's rows as stored, as JSON text (see `SqliteStorage`). */
export interface JsonRows {
  readonly get: (table: string, part: string, id: string) => string | undefined
  /** The rows of one partition, as the read view's `scan` orders them. */
  readonly scan: (table: string, part: string) => Array<[id: string, json: string]>
}

/** What the cache knows of one partition: some of its rows by id, and maybe the whole of it. */
interface Partition {
  /** id → parsed value, or ABSENT */
  readonly ids: Map<string, unknown>
  /** Every row of the partition, parsed; undefined: not known. */
  rows: ReadonlyArray<readonly [string, unknown]> | undefined
  /**
   * What a `derive` made of `rows` (only while `rows` is known), and the rows written since it was
   * made (id → value, undefined: deleted), put in it at the next `derive`.
   */
  derivation: Derivation<unknown, unknown> | undefined
  derived: unknown
  pending: Map<string, unknown> | undefined
  /** What `ids`, `rows` and `derived` weigh (see `weight`; `derived` counts as its rows did when made). */
  idsWeight: number
  rowsWeight: number
  derivedWeight: number
  /** The cache's clock at the last read: the least recently read partitions go first. */
  used: number
}

/** table → partition → what is known of it */
type Tables = Map<string, Map<string, Partition>>

/** A row's weight: its JSON text and id, and a little for the entry itself. */
const weight = (id: string, json: string) => 32 + id.length + json.length

/** The most rows of one partition a commit puts in its known scan; more, and the scan is read again. */
const PATCH_MAX_ROWS = 32
/** The largest known scan a commit patches (a copy of it each time); larger ones are read again. */
const PATCH_MAX_SCAN = 4_096
/** More rows written since a derived value was made than this share of its scan (and 32): made again. */
const PENDING_MAX_SHARE = 0.5

/**
 * The most the cache holds, in `weight` (about the rows' JSON text in UTF-16 code units) before it
 * forgets the least recently read partitions.
 */
export const READ_CACHE_MAX_WEIGHT = 32 * 1024 * 1024

/**
 * The rows queries read, parsed, kept in memory between queries: a feed query reads the same
 * viewer's inbox, the same pulled list and the same room documents again and again, and reading
 * them (SQLite pages, JSON) was most of its time and of its garbage.
 *
 * It is always exact. The storage tells it every row it commits (`written`: those rows and their
 * partitions' scans are forgotten, read again on demand), every projection it resets
 * (`dropProjection`), and that another connection wrote (`clear`: it cannot tell which rows, so it
 * forgets them all). Values and scans are shared between readers: never change them (as `Tx.put`
 * already requires of every value); a scan answers the same array until its partition changes.
 * What a query derives from a scan (`derive`) is kept beside it and brought up to date from the
 * rows each commit wrote (see `patch`), or made again when the scan is read again.
 */
export class ReadCache {
  /** projection → its tables */
  private readonly projections = new Map<string, Tables>()
  private held = 0
  private clock = 0

  /**
   * `order`: the order of ids in the source's scans (a written row is put in its place in a known
   * scan); `maxWeight`: see `READ_CACHE_MAX_WEIGHT`.
   */
  constructor(
    private readonly order: (a: string, b: string) => number = (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    private readonly maxWeight = READ_CACHE_MAX_WEIGHT
  ) {}

  /** One projection's rows (`source`), answered from memory when known, parsed once when not. */
  view(projection: string, source: JsonRows): ReadView {
    return {
      get: <V>(table: string, part: string, id: string): V | undefined => {
        const partition = this.partition(projection, table, part)
        const known = partition.ids.get(id)
        if (known !== undefined) return known === ABSENT ? undefined : (known as V)
        const json = source.get(table, part, id)
        const value = json === undefined ? undefined : (JSON.parse(json) as V)
        partition.ids.set(id, value === undefined ? ABSENT : value)
        const w = weight(id, json ?? "")
        partition.idsWeight += w
        this.grow(w)
        return value
      },
      scan: <V>(table: string, part: string): ReadonlyArray<readonly [string, V]> => {
        const partition = this.partition(projection, table, part)
        this.grow(this.read(partition, source, table, part))
        return partition.rows as ReadonlyArray<readonly [string, V]>
      },
      derive: <V, D>(table: string, part: string, derivation: Derivation<V, D>): D => {
        const partition = this.partition(projection, table, part)
        // Grown once, at the end: growing may forget this partition, whose weight then goes with it.
        const read = this.read(partition, source, table, part)
        const rows = partition.rows as ReadonlyArray<readonly [string, V]>
        // Rows read afresh: whatever was derived before is of other rows.
        if (partition.derivation === derivation && read === 0) {
          if (partition.pending !== undefined) {
            const changed = partition.pending as ReadonlyMap<string, V | undefined>
            partition.pending = undefined
            partition.derived = derivation.update(partition.derived as D, changed)
          }
          return partition.derived as D
        }
        const derived = derivation.build(rows)
        this.forgetDerived(partition)
        partition.derivation = derivation as Derivation<unknown, unknown>
        partition.derived = derived
        partition.derivedWeight = partition.rowsWeight
        this.grow(read + partition.derivedWeight)
        return derived
      }
    }
  }

  /**
   * Reads and parses the partition's rows when not known (nothing is derived from them then);
   * answers the weight added, for the caller to `grow` by once it is done with the partition.
   */
  private read(partition: Partition, source: JsonRows, table: string, part: string): number {
    if (partition.rows === undefined) {
      // Parsed in place: the rows are fresh arrays of ours.
      const rows = source.scan(table, part) as Array<[string, unknown]>
      let w = 32
      for (const row of rows) {
        w += weight(row[0], row[1] as string)
        row[1] = JSON.parse(row[1] as string)
      }
      partition.rows = rows
      partition.rowsWeight = w
      return w
    }
    return 0
  }

  private forgetDerived(partition: Partition) {
    this.held -= partition.derivedWeight
    partition.derivedWeight = 0
    partition.derivation = undefined
    partition.derived = undefined
    partition.pending = undefined
  }

  /**
   * `projection` committed `writes`: a known scan of a partition they touch becomes a new array
   * with the written rows in place (as JSON would give them back: a feed's inbox changes by one row
   * at a time, and reading its thousand rows again is what a query after a change would pay);
   * rows known one by one are forgotten (a deleted one: known absent).
   */
  written(projection: string, writes: Writes) {
    const tables = this.projections.get(projection)
    if (tables === undefined) return
    for (const [table, parts] of writes) {
      const partitions = tables.get(table)
      if (partitions === undefined) continue
      for (const [part, rows] of parts) {
        const partition = partitions.get(part)
        if (partition === undefined) continue
        if (partition.rows !== undefined) {
          // Many rows at once (a Space's members at its end), or a big partition (a big room's
          // members, copied on every join otherwise): read again when asked.
          if (rows.size <= PATCH_MAX_ROWS && partition.rows.length <= PATCH_MAX_SCAN)
            this.patch(partition, rows)
          else {
            this.held -= partition.rowsWeight
            partition.rowsWeight = 0
            partition.rows = undefined
            this.forgetDerived(partition)
          }
        }
        for (const [id, value] of rows) {
          if (partition.ids.has(id)) {
            // Rows' own weights are not kept: a forgotten one counts as the partition's average.
            // Whole numbers: the accounts stay exact (and the last row takes what is left).
            const w = Math.floor(partition.idsWeight / partition.ids.size)
            partition.ids.delete(id)
            partition.idsWeight -= w
            this.held -= w
          }
          if (value === DELETED) {
            partition.ids.set(id, ABSENT)
            partition.idsWeight += weight(id, "")
            this.held += weight(id, "")
          }
        }
      }
    }
    if (this.held > this.maxWeight) this.evict()
  }

  /** Puts `writes` in the partition's known scan (a new array: the old one may be held by readers). */
  private patch(partition: Partition, writes: ReadonlyMap<string, unknown>) {
    const rows = (partition.rows as ReadonlyArray<readonly [string, unknown]>).slice()
    let w = partition.rowsWeight
    // What the derived value (if any) must take in at its next `derive`: the rows as a scan gives them.
    let pending = partition.pending
    if (partition.derivation !== undefined && pending === undefined) {
      pending = new Map()
      partition.pending = pending
    }
    for (const [id, value] of writes) {
      // Binary search for the id's place in the scan's order.
      let lo = 0
      let hi = rows.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (this.order(rows[mid]![0], id) < 0) lo = mid + 1
        else hi = mid
      }
      const found = lo < rows.length && rows[lo]![0] === id
      if (found) w -= weight(id, JSON.stringify(rows[lo]![1]))
      if (value === DELETED) {
        if (found) rows.splice(lo, 1)
        pending?.set(id, undefined)
        continue
      }
      const json = JSON.stringify(value)
      w += weight(id, json)
      const row = [id, JSON.parse(json)] as const
      if (found) rows[lo] = row
      else rows.splice(lo, 0, row)
      pending?.set(id, row[1])
    }
    this.held += w - partition.rowsWeight
    partition.rowsWeight = w
    partition.rows = rows
    // Past a point, making the derived value again costs less than bringing it up to date.
    if (pending !== undefined && pending.size > Math.max(32, rows.length * PENDING_MAX_SHARE))
      this.forgetDerived(partition)
  }

  /** Every row of `projection` is gone (a reset). */
  dropProjection(projection: string) {
    const tables = this.projections.get(projection)
    if (tables === undefined) return
    for (const partitions of tables.values())
      for (const partition of partitions.values())
        this.held -= partition.idsWeight + partition.rowsWeight + partition.derivedWeight
    this.projections.delete(projection)
  }

  /** Someone else wrote (another connection): any row may have changed. */
  clear() {
    this.projections.clear()
    this.held = 0
  }

  /** What the cache holds, in `weight`. */
  get weight(): number {
    return this.held
  }

  private partition(projection: string, table: string, part: string): Partition {
    let tables = this.projections.get(projection)
    if (tables === undefined) {
      tables = new Map()
      this.projections.set(projection, tables)
    }
    let partitions = tables.get(table)
    if (partitions === undefined) {
      partitions = new Map()
      tables.set(table, partitions)
    }
    let partition = partitions.get(part)
    if (partition === undefined) {
      partition = {
        ids: new Map(),
        rows: undefined,
        derivation: undefined,
        derived: undefined,
        pending: undefined,
        idsWeight: 0,
        rowsWeight: 0,
        derivedWeight: 0,
        used: 0
      }
      partitions.set(part, partition)
    }
    partition.used = ++this.clock
    return partition
  }

  private grow(by: number) {
    this.held += by
    if (this.held > this.maxWeight) this.evict()
  }

  /**
   * Forgets the least recently read partitions until at most half the bound is held. No sort: one
   * pass weighs the partitions by when they were last read (64 slices of the clock), and the oldest
   * slices that together hold enough are dropped in a second pass. The partition being read is the
   * most recent: it goes only if nothing older is enough.
   */
  private evict() {
    const slices = 64
    const partitions: Array<readonly [Map<string, Partition>, string, Partition]> = []
    for (const tables of this.projections.values())
      for (const parts of tables.values()) for (const [part, p] of parts) partitions.push([parts, part, p])
    let oldest = this.clock
    for (const [, , p] of partitions) oldest = Math.min(oldest, p.used)
    const span = (this.clock - oldest + 1) / slices
    const weights = new Array<number>(slices).fill(0)
    for (const [, , p] of partitions)
      weights[Math.floor((p.used - oldest) / span)]! += p.idsWeight + p.rowsWeight + p.derivedWeight
    let drop = this.held - this.maxWeight / 2
    let cut = 0
    while (cut < slices && drop > 0) drop -= weights[cut++]!
    const before = oldest + cut * span
    for (const [map, part, p] of partitions)
      if (p.used < before) {
        map.delete(part)
        this.held -= p.idsWeight + p.rowsWeight + p.derivedWeight
      }
  }
}
