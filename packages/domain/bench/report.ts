import { Effect } from "effect"

/** Runs `f` once and answers its wall time in milliseconds (after a GC, when exposed). */
export const time = (f: () => unknown) =>
  Effect.sync(() => {
    globalThis.gc?.()
    const start = performance.now()
    f()
    return performance.now() - start
  })

export const rate = (count: number, ms: number) => (count * 1000) / ms

export interface Row {
  readonly figure: string
  readonly ours: number
  readonly baseline: number
  readonly baselineName: string
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")

/** Prints the figures as a table, with the ratio ours/baseline. */
export const printTable = (title: string, rows: ReadonlyArray<Row>) => {
  console.log(`\n${title}`)
  for (const row of rows) {
    console.log(`  ${row.figure}`)
    console.log(`    ours      ${fmt(row.ours).padStart(14)} /s`)
    console.log(`    baseline  ${fmt(row.baseline).padStart(14)} /s  (${row.baselineName})`)
    console.log(`    ratio     ${(row.ours / row.baseline).toFixed(2).padStart(14)} x`)
  }
}
