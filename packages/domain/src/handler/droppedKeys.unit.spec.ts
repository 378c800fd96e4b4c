import { describe, expect, it } from "vitest"
import { makeDroppedKeys } from "./droppedKeys.js"

describe("dropped idempotency keys", () => {
  it("never answers no for a key dropped, and rarely maybe for one that was not", () => {
    const dropped = makeDroppedKeys()
    expect(dropped.mayHave("space-a", "k0")).toBe(false)
    for (let i = 0; i < 100_000; i++) dropped.add(`space-${i % 100}`, `key-${i}`)
    for (let i = 0; i < 100_000; i++) expect(dropped.mayHave(`space-${i % 100}`, `key-${i}`)).toBe(true)
    // The same key on another stream, and new keys: almost always a certain no.
    let maybes = 0
    for (let i = 0; i < 100_000; i++) if (dropped.mayHave(`space-${(i % 100) + 1}`, `key-${i}`)) maybes++
    for (let i = 100_000; i < 200_000; i++) if (dropped.mayHave(`space-${i % 100}`, `key-${i}`)) maybes++
    expect(maybes).toBeLessThan(20)
  })
})
