import { describe, expect, it } from "vitest"
import { DELETED, type ReadView, type Writes } from "../store/Storage.js"
import { StepRows } from "./StepRows.js"

/** A store's rows as a read view that counts the point reads it answers. */
const counted = (rows: Map<string, unknown>) => {
  const asked: Array<string> = []
  const view: ReadView = {
    get: <V>(table: string, part: string, id: string) => {
      asked.push(`${table}/${part}/${id}`)
      return rows.get(`${table}/${part}/${id}`) as V | undefined
    },
    scan: () => []
  }
  return { view, asked }
}

const writes = (entries: ReadonlyArray<readonly [string, string, string, unknown]>): Writes => {
  const out: Writes = new Map()
  for (const [table, part, id, value] of entries) {
    const parts = out.get(table) ?? new Map()
    out.set(table, parts)
    const rows = parts.get(part) ?? new Map()
    parts.set(part, rows)
    rows.set(id, value)
  }
  return out
}

describe("StepRows", () => {
  it("asks the store once per row, absent rows included", () => {
    const { view, asked } = counted(new Map([["space/s1/doc", { n: 1 }]]))
    const rows = new StepRows(view)
    expect(rows.view.get("space", "s1", "doc")).toEqual({ n: 1 })
    expect(rows.view.get("space", "s1", "doc")).toEqual({ n: 1 })
    expect(rows.view.get("space", "s2", "doc")).toBeUndefined()
    expect(rows.view.get("space", "s2", "doc")).toBeUndefined()
    expect(asked).toEqual(["space/s1/doc", "space/s2/doc"])
  })

  it("answers what a commit wrote, deletions as absent, without asking the store", () => {
    const { view, asked } = counted(new Map([["space/s1/doc", { n: 1 }]]))
    const rows = new StepRows(view)
    rows.view.get("space", "s1", "doc")
    rows.learn(
      writes([
        ["space", "s1", "doc", { n: 2 }],
        ["member", "s1", "u1", DELETED],
        ["member", "s1", "u2", { role: "listener" }]
      ])
    )
    expect(rows.view.get("space", "s1", "doc")).toEqual({ n: 2 })
    expect(rows.view.get("member", "s1", "u1")).toBeUndefined()
    expect(rows.view.get("member", "s1", "u2")).toEqual({ role: "listener" })
    expect(asked).toEqual(["space/s1/doc"])
  })

  it("reads the store again once cleared (a refused commit, a reload)", () => {
    const stored = new Map<string, unknown>([["space/s1/doc", { n: 1 }]])
    const { view, asked } = counted(stored)
    const rows = new StepRows(view)
    rows.view.get("space", "s1", "doc")
    // Another writer changed the row: after `clear`, the step sees its value.
    stored.set("space/s1/doc", { n: 7 })
    rows.clear()
    expect(rows.view.get("space", "s1", "doc")).toEqual({ n: 7 })
    expect(asked).toEqual(["space/s1/doc", "space/s1/doc"])
  })

  it("forgets everything past its bound, and stays exact", () => {
    const stored = new Map<string, unknown>(Array.from({ length: 10 }, (_, i) => [`t/p/${i}`, i]))
    const { view, asked } = counted(stored)
    const rows = new StepRows(view, 4)
    for (let i = 0; i < 10; i++) expect(rows.view.get("t", "p", String(i))).toBe(i)
    // Cleared at the 5th and the 9th row: 8 and 9 are known, 0 is asked again.
    expect(rows.view.get("t", "p", "9")).toBe(9)
    expect(rows.view.get("t", "p", "0")).toBe(0)
    expect(asked.length).toBe(11)
  })

  it("passes scans to the store", () => {
    const view: ReadView = {
      get: () => undefined,
      scan: <V>() => [["a", 1 as V] as const]
    }
    expect(new StepRows(view).view.scan("t", "p")).toEqual([["a", 1]])
  })
})
