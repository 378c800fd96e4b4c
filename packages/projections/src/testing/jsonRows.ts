import type { JsonRows } from "../store/ReadCache.js"
import type { ReadView } from "../store/Storage.js"

/** Rows in id order, as a SQLite scan gives them. */
export const sortedRows = <V>(rows: ReadonlyArray<readonly [string, V]>) =>
  [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** A read view's rows as JSON text, as the SQLite storage hands them to its cache. */
export const jsonRowsOf = (read: ReadView): JsonRows => ({
  get: (table, part, id) => {
    const value = read.get(table, part, id)
    return value === undefined ? undefined : JSON.stringify(value)
  },
  scan: (table, part) =>
    sortedRows(read.scan(table, part)).map(([id, value]) => [id, JSON.stringify(value)] as [string, string])
})
