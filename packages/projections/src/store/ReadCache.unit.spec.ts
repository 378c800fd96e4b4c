import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { makeMemoryStorage } from "./MemoryStorage.js"
import { ReadCache } from "./ReadCache.js"
import { DELETED, type Derivation, type Writes } from "./Storage.js"
import { jsonRowsOf, sortedRows } from "../testing/jsonRows.js"

/**
 * A memory store of projection "p" read through a cache, as the SQLite storage does: each commit
 * (checked to succeed) is told to the cache, and a reset drops the projection from it.
 */
const cachedStore = (maxWeight: number) => {
  const store = makeMemoryStorage().projection("p")
  store.reset(1)
  let position = 0
  const cache = new ReadCache(undefined, maxWeight)
  const view = cache.view("p", jsonRowsOf(store.read))
  return {
    store,
    cache,
    view,
    commit: (writes: Writes) => {
      expect(store.commit(writes, position, position + 1, 1)).toBe(true)
      position++
      cache.written("p", writes)
    },
    reset: () => {
      store.reset(1)
      position = 0
      cache.dropProjection("p")
    }
  }
}

type Op =
  | { readonly kind: "write"; readonly part: string; readonly id: string; readonly value: number | null }
  | { readonly kind: "get"; readonly part: string; readonly id: string }
  | { readonly kind: "scan"; readonly part: string }
  | { readonly kind: "reset" }

const part = fc.constantFrom("p0", "p1", "p2")
const id = fc.constantFrom("a", "b", "c", "d", "e", "f", "g")
// Mostly writes and reads, few resets: partitions grow to several rows between resets.
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      part,
      id,
      value: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 4 })
    })
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("get" as const), part, id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("scan" as const), part }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const) }) }
)

describe("ReadCache", () => {
  it("answers exactly as its base through writes, resets and evictions", () =>
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 20, maxLength: 120, size: "max" }),
        fc.integer({ min: 40, max: 4_000 }),
        (ops, maxWeight) => {
          const { store, cache, view, commit, reset } = cachedStore(maxWeight)
          for (const o of ops) {
            switch (o.kind) {
              case "write": {
                commit(
                  new Map([
                    ["t", new Map([[o.part, new Map<string, unknown>([[o.id, o.value ?? DELETED]])]])]
                  ])
                )
                break
              }
              case "get":
                expect(view.get("t", o.part, o.id)).toEqual(store.read.get("t", o.part, o.id))
                break
              case "scan":
                // In the source's order, the rows patched in by writes included.
                expect(view.scan("t", o.part)).toEqual(sortedRows(store.read.scan("t", o.part)))
                break
              case "reset":
                reset()
                break
            }
            // The bound holds once a read is over.
            expect(cache.weight).toBeLessThanOrEqual(maxWeight)
            expect(cache.weight).toBeGreaterThanOrEqual(0)
          }
        }
      )
    ))

  it("answers the same scan array until the partition is written", () => {
    const storage = makeMemoryStorage()
    const store = storage.projection("p")
    store.reset(1)
    const cache = new ReadCache()
    const view = cache.view("p", jsonRowsOf(store.read))
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

/** A value derived from a partition: its rows as a map, brought up to date in place. */
const asMap: Derivation<number, Map<string, number>> = {
  build: (rows) => new Map(rows),
  update: (derived, changed) => {
    for (const [id, value] of changed)
      if (value === undefined) derived.delete(id)
      else derived.set(id, value)
    return derived
  }
}

type DeriveOp =
  | {
      readonly kind: "write"
      readonly part: string
      readonly rows: ReadonlyArray<readonly [id: number, value: number | null]>
    }
  | { readonly kind: "derive"; readonly part: string }
  | { readonly kind: "reset" }

// Ids 0–59: a commit writes a few rows of a partition, or more than the cache patches in at once.
const deriveOp: fc.Arbitrary<DeriveOp> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      part,
      rows: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.array(fc.tuple(fc.nat(59), fc.option(fc.nat(3), { freq: 4 })), {
            minLength: 1,
            maxLength: 4
          })
        },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(fc.nat(59), fc.option(fc.nat(3), { freq: 4 })), {
            minLength: 30,
            maxLength: 60
          })
        }
      )
    })
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("derive" as const), part }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const) }) }
)

describe("ReadCache.derive", () => {
  it("answers what building from the partition's rows answers, through writes, resets and evictions", () =>
    fc.assert(
      fc.property(
        fc.array(deriveOp, { minLength: 10, maxLength: 80, size: "max" }),
        fc.oneof(fc.constant(10_000_000), fc.integer({ min: 100, max: 4_000 })),
        (ops, maxWeight) => {
          const { store, cache, view, commit, reset } = cachedStore(maxWeight)
          for (const o of ops) {
            switch (o.kind) {
              case "write": {
                const rows = new Map<string, unknown>(
                  o.rows.map(([id, value]) => [`r${id}`, value ?? DELETED])
                )
                commit(new Map([["t", new Map([[o.part, rows]])]]))
                break
              }
              case "derive":
                expect(view.derive!("t", o.part, asMap)).toStrictEqual(new Map(store.read.scan("t", o.part)))
                break
              case "reset":
                reset()
                break
            }
            expect(cache.weight).toBeLessThanOrEqual(maxWeight)
            expect(cache.weight).toBeGreaterThanOrEqual(0)
          }
        }
      )
    ))

  it("keeps what it derived between queries, and updates it from the rows written", () => {
    const storage = makeMemoryStorage()
    const store = storage.projection("p")
    store.reset(1)
    const cache = new ReadCache()
    const view = cache.view("p", jsonRowsOf(store.read))
    let builds = 0
    const counted: Derivation<number, Map<string, number>> = {
      build: (rows) => {
        builds++
        return asMap.build(rows)
      },
      update: asMap.update
    }
    const first = view.derive!("t", "x", counted)
    expect(view.derive!("t", "x", counted)).toBe(first)
    const writes: Writes = new Map([["t", new Map([["x", new Map<string, unknown>([["a", 1]])]])]])
    store.commit(writes, 0, 1, 1)
    cache.written("p", writes)
    expect(view.derive!("t", "x", counted)).toStrictEqual(new Map([["a", 1]]))
    expect(builds).toBe(1)
  })
})
