import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeMemoryStorage } from "./MemoryStorage.js"
import { type JsonRows, ReadCache } from "./ReadCache.js"
import { DELETED, type ReadView, type Writes } from "./Storage.js"

/** A read view's rows as JSON text, as the SQLite storage hands them to its cache. */
const jsonOf = (read: ReadView): JsonRows => ({
  get: (table, part, id) => {
    const value = read.get(table, part, id)
    return value === undefined ? undefined : JSON.stringify(value)
  },
  scan: (table, part) => read.scan(table, part).map(([id, value]) => [id, JSON.stringify(value)])
})

type Op =
  | { readonly kind: "write"; readonly part: string; readonly id: string; readonly value: number | null }
  | { readonly kind: "get"; readonly part: string; readonly id: string }
  | { readonly kind: "scan"; readonly part: string }
  | { readonly kind: "reset" }

const part = fc.constantFrom("p0", "p1", "p2", "p3")
const id = fc.constantFrom("a", "b", "c", "d", "e")
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    part,
    id,
    value: fc.option(fc.integer({ min: 0, max: 3 }))
  }),
  fc.record({ kind: fc.constant("get" as const), part, id }),
  fc.record({ kind: fc.constant("scan" as const), part }),
  fc.record({ kind: fc.constant("reset" as const) })
)

describe("ReadCache", () => {
  it("answers exactly as its base through writes, resets and evictions", () =>
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 40, max: 400 }), (ops, maxWeight) => {
        const storage = makeMemoryStorage()
        const store = storage.projection("p")
        store.reset(1)
        let position = 0
        const cache = new ReadCache(maxWeight)
        const view = cache.view("p", jsonOf(store.read))
        for (const o of ops) {
          switch (o.kind) {
            case "write": {
              const writes: Writes = new Map([
                ["t", new Map([[o.part, new Map<string, unknown>([[o.id, o.value ?? DELETED]])]])]
              ])
              expect(store.commit(writes, position, position + 1, 1)).toBe(true)
              position++
              cache.written("p", writes)
              break
            }
            case "get":
              expect(view.get("t", o.part, o.id)).toEqual(store.read.get("t", o.part, o.id))
              break
            case "scan":
              expect(new Map(view.scan("t", o.part))).toEqual(new Map(store.read.scan("t", o.part)))
              break
            case "reset":
              store.reset(1)
              position = 0
              cache.dropProjection("p")
              break
          }
          // The bound holds once a read is over.
          expect(cache.weight).toBeLessThanOrEqual(maxWeight)
          expect(cache.weight).toBeGreaterThanOrEqual(0)
        }
      })
    ))

  it("answers the same scan array until the partition is written", () => {
    const storage = makeMemoryStorage()
    const store = storage.projection("p")
    store.reset(1)
    const cache = new ReadCache()
    const view = cache.view("p", jsonOf(store.read))
    const first = view.scan("t", "x")
    expect(view.scan("t", "x")).toBe(first)
    // Rows read one by one stay known too, until written.
    expect(view.get("t", "x", "a")).toBeUndefined()
    const writes: Writes = new Map([["t", new Map([["x", new Map<string, unknown>([["a", 1]])]])]])
    store.commit(writes, 0, 1, 1)
    cache.written("p", writes)
    expect(view.scan("t", "x")).not.toBe(first)
    expect(view.scan("t", "x")).toEqual([["a", 1]])
  })
})
