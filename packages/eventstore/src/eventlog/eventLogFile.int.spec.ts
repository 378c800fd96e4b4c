import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { it } from "@effect/vitest"
import { type EventStoreShape, makeInMemoryEventStore } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { afterEach, beforeEach, describe, expect } from "vitest"
import { event } from "../contract/EventStoreContract.js"
import { makeSqliteEventStore } from "../sqlite/SqliteEventStore.js"
import { runCliForTest } from "./runCliForTest.js"
import { importLog } from "./eventLogFile.js"

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spaces-eventlog-"))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const cli = runCliForTest

const seed = (store: EventStoreShape) =>
  Effect.gen(function* () {
    yield* store.append("space-1", [event("SpaceCreated", { title: "ünïcode ✓" })], "no_stream")
    yield* store.append("user-1", [event("UserFollowed"), event("UserFollowed")], "no_stream")
    yield* store.append("space-1", [event("ListenerJoined")], 0)
    // Longer than one import batch, so the import splits it and keeps the revisions.
    yield* store.append(
      "space-2",
      Array.from({ length: 2_500 }, (_, i) => event("ListenerJoined", { n: i })),
      "no_stream"
    )
    yield* store.append("user-1", [event("UserUnfollowed")], 1)
  })

const readAll = (store: EventStoreShape) =>
  Effect.map(Stream.runCollect(store.readAll(0)), Chunk.toReadonlyArray)

describe("event log export and import (JSON lines)", () => {
  it.live("moves a SQLite log to another store and back, unchanged, with progress on stderr", () =>
    Effect.gen(function* () {
      const source = join(dir, "source.sqlite")
      const target = join(dir, "target.sqlite")
      const original = makeSqliteEventStore({ path: source })
      yield* seed(original)
      const before = yield* readAll(original)
      original.close()

      const exported = yield* Effect.promise(() =>
        cli(["export", join(dir, "a.jsonl")], { SPACES_DB_PATH: source })
      )
      expect(exported.code).toBe(0)
      expect(exported.stderr).toContain("exported 2,505 events")
      const lines = readFileSync(join(dir, "a.jsonl"), "utf8").trimEnd().split("\n")
      expect(lines).toHaveLength(2_505)
      expect(JSON.parse(lines[0]!)).toEqual({
        stream: "space-1",
        revision: 0,
        position: 1,
        id: before[0]!.id,
        type: "SpaceCreated",
        data: { title: "ünïcode ✓" },
        metadata: before[0]!.metadata
      })

      const imported = yield* Effect.promise(() =>
        cli(["import", join(dir, "a.jsonl")], { SPACES_DB_PATH: target })
      )
      expect(imported).toMatchObject({ code: 0 })
      // Again: already there, so nothing is written (an interrupted import can be re-run).
      expect(
        yield* Effect.promise(() => cli(["import", join(dir, "a.jsonl")], { SPACES_DB_PATH: target }))
      ).toMatchObject({
        code: 0
      })
      const again = yield* Effect.promise(() =>
        cli(["export", join(dir, "b.jsonl")], { SPACES_DB_PATH: target })
      )
      expect(again).toMatchObject({ code: 0 })
      // Same events, same revisions, same positions (a fresh store assigns them in the same order);
      // compared as values because metadata is re-encoded through its schema (key order).
      const copy = readFileSync(join(dir, "b.jsonl"), "utf8").trimEnd().split("\n")
      expect(copy.map((line) => JSON.parse(line))).toEqual(lines.map((line) => JSON.parse(line)))
    })
  )

  it.live("imports into any store through the port, keeping streams, revisions and order", () =>
    Effect.gen(function* () {
      const source = makeSqliteEventStore({ path: join(dir, "source.sqlite") })
      yield* seed(source)
      const before = yield* readAll(source)
      source.close()
      yield* Effect.promise(() =>
        cli(["export", join(dir, "a.jsonl")], { SPACES_DB_PATH: join(dir, "source.sqlite") })
      )
      const memory = makeInMemoryEventStore()
      const count = yield* importLog(memory, createReadStream(join(dir, "a.jsonl")))
      expect(count).toBe(2_505)
      const after = yield* readAll(memory)
      const strip = ({ position: _, ...rest }: (typeof before)[number]) => rest
      expect(after.map(strip)).toEqual(before.map(strip))
    })
  )

  it.live("refuses a malformed line, naming it", () =>
    Effect.gen(function* () {
      const good = JSON.stringify({
        stream: "space-1",
        revision: 0,
        id: "a",
        type: "T",
        data: {},
        metadata: { recordedAt: 1 }
      })
      const input = Readable.from([`${good}\n\n{"stream": "space-1", "revision": -1}\n`])
      const error = yield* Effect.flip(importLog(makeInMemoryEventStore(), input))
      expect(error).toMatchObject({ _tag: "EventLogFileError", line: 3 })
    })
  )

  it.live("refuses to merge into a stream that already holds other events", () =>
    Effect.gen(function* () {
      const store = makeInMemoryEventStore()
      yield* store.append("space-1", [event()], "no_stream")
      const line = JSON.stringify({
        stream: "space-1",
        revision: 0,
        id: "b",
        type: "T",
        data: {},
        metadata: { recordedAt: 1 }
      })
      const error = yield* Effect.flip(importLog(store, Readable.from([`${line}\n`])))
      expect(error).toMatchObject({ _tag: "WrongExpectedVersion", stream: "space-1", actual: 0 })
    })
  )

  it.live("prints usage for an unknown command", () =>
    Effect.gen(function* () {
      const result = yield* Effect.promise(() => cli(["upload"], {}))
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("usage: eventlog export")
    })
  )
})
