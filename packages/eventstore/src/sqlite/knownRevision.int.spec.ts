import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect } from "vitest"
import { event } from "../contract/EventStoreContract.js"
import { scopedSqliteEventStore } from "./SqliteEventStore.js"

let dir: string
let path: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spaces-known-"))
  path = join(dir, "events.sqlite")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe("SQLite knownRevision", () => {
  it.scopedLive("vouches for a revision only while no other connection has committed since", () =>
    Effect.gen(function* () {
      const ours = yield* scopedSqliteEventStore({ path })
      const other = yield* scopedSqliteEventStore({ path })
      expect(ours.knownRevision?.("s")).toBeUndefined()
      yield* ours.append("s", [event("a"), event("b")], "no_stream")
      expect(ours.knownRevision?.("s")).toBe(1)
      // Another connection appends behind our back: ours must not vouch for revision 1 any more.
      yield* other.append("s", [event("c")], 1)
      expect(ours.knownRevision?.("s")).toBeUndefined()
      expect(ours.knownRevision?.("s")).toBeUndefined()
      // Once it has written (and so looked the stream up again), it knows the file's revision.
      yield* ours.append("s", [event("d")], 2)
      expect(ours.knownRevision?.("s")).toBe(3)
      expect((yield* other.readStream("s")).map((e) => e.revision)).toEqual([0, 1, 2, 3])
    })
  )

  it.live("sees another connection's commit made in the same run of microtasks", () =>
    Effect.gen(function* () {
      const ours = yield* scopedSqliteEventStore({ path })
      const other = yield* scopedSqliteEventStore({ path })
      yield* ours.append("s", [event("a")], "no_stream")
      // All in one synchronous run: the pragma's answer may be reused, but not past a commit.
      const seen = Effect.runSync(
        Effect.sync(() => {
          const before = ours.knownRevision?.("s")
          other.writer.insertUnchecked("s", [event("b")], 1)
          return [before, ours.knownRevision?.("s")]
        })
      )
      expect(seen).toEqual([0, undefined])
    }).pipe(Effect.scoped)
  )
})
