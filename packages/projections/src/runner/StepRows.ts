import { DELETED, type ReadView, type Writes } from "../store/Storage.js"

/** A row known to be absent. */
const ABSENT: unique symbol = Symbol("absent")

/** Rows a live runner keeps for its steps, over all its tables; past it, it forgets them all. */
export const STEP_ROWS_MAX = 100_000

/**
 * The rows a live projection's steps read, kept between batches: the next join to a Space reads
 * the room document the last one wrote, and asking the database for it (a query and a JSON parse
 * per row per batch) was most of the steps' time. Only point reads (`get`) are kept; `scan` goes to
 * the store.
 *
 * Exact as long as it only learns what this runner committed (`learn`, after its commit) and what
 * the store answered, and is forgotten (`clear`) whenever the stored rows may have moved under it:
 * a commit refused (someone else moved the checkpoint), a reload, a reset. Another writer of the
 * same rows moves the projection's checkpoint in the same transaction, so a batch stepped over
 * rows it changed is refused at commit, as it is when the steps read the store itself. Values
 * are shared with the steps, which never change a value they read or wrote (see `Tx.put`).
 */
export class StepRows {
  /** table → partition → id → value (or ABSENT) */
  private readonly tables = new Map<string, Map<string, Map<string, unknown>>>()
  private count = 0

  constructor(
    private readonly base: ReadView,
    private readonly max = STEP_ROWS_MAX
  ) {}

  readonly view: ReadView = {
    get: <V>(table: string, part: string, id: string): V | undefined => {
      const rows = this.tables.get(table)?.get(part)
      const known = rows?.get(id)
      if (known !== undefined) return known === ABSENT ? undefined : (known as V)
      const value = this.base.get<V>(table, part, id)
      this.set(table, part, id, value === undefined ? ABSENT : value)
      return value
    },
    scan: <V>(table: string, part: string) => this.base.scan<V>(table, part)
  }

  /** `writes` were committed: they are what the store now holds. */
  learn(writes: Writes) {
    for (const [table, parts] of writes)
      for (const [part, rows] of parts)
        for (const [id, value] of rows) this.set(table, part, id, value === DELETED ? ABSENT : value)
  }

  /** The stored rows may have changed in ways this runner did not commit. */
  clear() {
    this.tables.clear()
    this.count = 0
  }

  private set(table: string, part: string, id: string, value: unknown) {
    if (this.count >= this.max) this.clear()
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
    rows.set(id, value)
    this.count += rows.size - size
  }
}
