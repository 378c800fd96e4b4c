import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaultRoomRules, makeInMemoryEventStore, type RecordedEvent } from "@spaces/domain"
import { Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { projections, queriesOf } from "../ReadModelsLive.js"
import { applyBatch, type Cursor } from "../runner/applyBatch.js"
import { snapshot } from "../testing/compare.js"
import { checkHistories, stepArb, T0, writeHistory } from "../testing/history.js"
import { makeSqliteStorage } from "./SqliteStorage.js"
import type { Storage } from "./Storage.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "spaces-cache-"))

/** The same storage without its query cache: every query reads the database. */
const uncached = ({ query: _, ...storage }: Storage): Storage => storage

const row = (table: string, part: string, id: string, value: unknown) =>
  new Map([[table, new Map([[part, new Map<string, unknown>([[id, value]])]])]])

describe("the views' query cache (SQLite)", () => {
  it("answers every query as the database does, after every batch of the log", () =>
    checkHistories(fc.array(stepArb, { minLength: 20, maxLength: 120, size: "max" }), (steps) =>
      Effect.gen(function* () {
        const log: ReadonlyArray<RecordedEvent> = yield* writeHistory(steps, makeInMemoryEventStore())
        const storage = makeSqliteStorage({ path: ":memory:" })
        yield* Effect.addFinalizer(() => Effect.sync(storage.close))
        // Threshold 2: pushed and pulled presences both occur.
        const all = projections({ fanOutThreshold: 2 })
        for (const p of all) storage.projection(p.name).reset(p.version)
        const cursors = new Map<string, Cursor>(all.map((p) => [p.name, { position: 0, at: null }]))
        const cached = queriesOf(storage, defaultRoomRules)
        const direct = queriesOf(uncached(storage), defaultRoomRules)
        for (const p of all) storage.projection(p.name).settle?.()
        // Small uneven batches, each followed by every query: the cache is filled, then each
        // commit must forget exactly what it changed.
        for (let at = 0; at < log.length; ) {
          const size = 1 + ((at * 7) % 5)
          const batch = log.slice(at, at + size)
          at += size
          for (const p of all) {
            const outcome = applyBatch(p, storage.projection(p.name), cursors.get(p.name) as Cursor, batch)
            expect(outcome.error).toBeUndefined()
          }
          const now = T0 + 3_600_000
          expect(yield* snapshot(cached, now)).toStrictEqual(yield* snapshot(direct, now))
        }
      })
    ))

  it("sees what another connection to the same file committed at its next query", () => {
    const path = join(tempDir(), "views.sqlite")
    const mine = makeSqliteStorage({ path })
    const theirs = makeSqliteStorage({ path })
    try {
      mine.projection("p").reset(1)
      expect(mine.projection("p").commit(row("t", "x", "a", 1), 0, 1, 1)).toBe(true)
      const read = () =>
        mine.query!((view) => [
          view("p").get("t", "x", "a"),
          view("p").scan("t", "x"),
          view("p").get("t", "x", "b")
        ])
      expect(read()).toEqual([1, [["a", 1]], undefined])
      // Another process moves the rows on: a row changed, one added.
      expect(theirs.projection("p").commit(row("t", "x", "a", 2), 1, 2, 1)).toBe(true)
      expect(theirs.projection("p").commit(row("t", "x", "b", 3), 2, 3, 1)).toBe(true)
      expect(read()).toEqual([
        2,
        [
          ["a", 2],
          ["b", 3]
        ],
        3
      ])
      // And resets the projection: its rows are gone.
      theirs.projection("p").reset(2)
      expect(read()).toEqual([undefined, [], undefined])
    } finally {
      mine.close()
      theirs.close()
    }
  })

  it("forgets a projection's rows when it is reset, and keeps the others'", () => {
    const storage = makeSqliteStorage({ path: ":memory:" })
    try {
      for (const name of ["a", "b"]) {
        storage.projection(name).reset(1)
        storage.projection(name).commit(row("t", "x", "k", name), 0, 1, 1)
      }
      const read = () =>
        storage.query!((view) => [view("a").get("t", "x", "k"), view("b").get("t", "x", "k")])
      expect(read()).toEqual(["a", "b"])
      storage.projection("a").reset(2)
      expect(read()).toEqual([undefined, "b"])
    } finally {
      storage.close()
    }
  })
})
