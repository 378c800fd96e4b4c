import { DELETED, type ReadView, type Writes } from "./Storage.js"

/** A row known to be absent. */
const ABSENT: unique symbol = Symbol("absent")

/** What the cache knows of one partition: some of its rows by id, and maybe the whole of it. */
interface Partition {
  readonly ids: Map<string, unknown>
  /** Every row of the partition, as the base's `scan` answered it; undefined: not known. */
  rows: ReadonlyArray<readonly [string, unknown]> | undefined
  /** Rows (and absences) held: what the bound counts. */
  size: number
  /** The cache's clock at the last read: the least recently read partitions go first. */
  used: number
}

/** table → partition → what is known of it */
type Tables = Map<string, Map<string, Partition>>

/** The most rows (and known absences) the cache holds before it forgets the least recently read half. */
export const READ_CACHE_MAX_ROWS = 200_000

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
 */
export class ReadCache {
  /** projection → its tables */
  private readonly projections = new Map<string, Tables>()
  private size = 0
  private clock = 0

  constructor(private readonly maxRows = READ_CACHE_MAX_ROWS) {}

  /** `base` (one projection's rows, as the database answers), answered from memory when known. */
  view(projection: string, base: ReadView): ReadView {
    return {
      get: <V>(table: string, part: string, id: string): V | undefined => {
        const partition = this.partition(projection, table, part)
        const known = partition.ids.get(id)
        if (known !== undefined) return known === ABSENT ? undefined : (known as V)
        const value = base.get<V>(table, part, id)
        partition.ids.set(id, value === undefined ? ABSENT : value)
        this.grow(partition, 1)
        return value
      },
      scan: <V>(table: string, part: string): ReadonlyArray<readonly [string, V]> => {
        const partition = this.partition(projection, table, part)
        if (partition.rows === undefined) {
          partition.rows = base.scan<V>(table, part)
          this.grow(partition, partition.rows.length + 1)
        }
        return partition.rows as ReadonlyArray<readonly [string, V]>
      }
    }
  }

  /** `projection` committed `writes`: what they change is forgotten. */
  written(projection: string, writes: Writes) {
    const tables = this.projections.get(projection)
    if (tables === undefined) return
    for (const [table, parts] of writes) {
      const partitions = tables.get(table)
      if (partitions === undefined) continue
      for (const [part, rows] of parts) {
        const partition = partitions.get(part)
        if (partition === undefined) continue
        let size = partition.size
        if (partition.rows !== undefined) {
          size -= partition.rows.length + 1
          partition.rows = undefined
        }
        for (const [id, value] of rows) {
          // A deleted row is known absent from now on; a written one is read again when asked.
          if (partition.ids.delete(id)) size--
          if (value === DELETED) {
            partition.ids.set(id, ABSENT)
            size++
          }
        }
        this.size += size - partition.size
        partition.size = size
      }
    }
  }

  /** Every row of `projection` is gone (a reset). */
  dropProjection(projection: string) {
    const tables = this.projections.get(projection)
    if (tables === undefined) return
    for (const partitions of tables.values())
      for (const partition of partitions.values()) this.size -= partition.size
    this.projections.delete(projection)
  }

  /** Someone else wrote (another connection): any row may have changed. */
  clear() {
    this.projections.clear()
    this.size = 0
  }

  /** Rows and known absences held. */
  get rows(): number {
    return this.size
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
      partition = { ids: new Map(), rows: undefined, size: 0, used: 0 }
      partitions.set(part, partition)
    }
    partition.used = ++this.clock
    return partition
  }

  private grow(partition: Partition, by: number) {
    partition.size += by
    this.size += by
    if (this.size > this.maxRows) this.evict()
  }

  /**
   * Forgets the least recently read partitions until at most half the bound is held (the one read
   * right now is the most recent: it goes last, only if it alone is over half).
   */
  private evict() {
    const all: Array<readonly [Map<string, Partition>, string, Partition]> = []
    for (const tables of this.projections.values())
      for (const partitions of tables.values())
        for (const [part, partition] of partitions) all.push([partitions, part, partition])
    all.sort(([, , a], [, , b]) => a.used - b.used)
    for (const [partitions, part, partition] of all) {
      if (this.size <= this.maxRows / 2) break
      partitions.delete(part)
      this.size -= partition.size
    }
  }
}
