import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { it } from "@effect/vitest"
import { CheckpointStore, EventStore, MalformedEvent, WrongExpectedVersion } from "@spaces/domain"
import Database from "better-sqlite3"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { afterEach, beforeEach, describe, expect } from "vitest"
import {
  concurrentAppends,
  expectLogAfterConcurrentAppends,
  expectOwnOutcomes
} from "../contract/concurrentAppends.js"
import { event } from "../contract/EventStoreContract.js"
import { makeSqliteEventStore, SqliteEventStore, scopedSqliteEventStore } from "./SqliteEventStore.js"

let dir: string
let path: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "spaces-sqlite-"))
  path = join(dir, "nested", "events.sqlite")
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** Writes a row behind the adapter's back, as corruption or a foreign writer would. */
const corrupt = (sql: string) => {
  const raw = new Database(path)
  raw.exec(sql)
  raw.close()
}

describe("SQLite event store", () => {
  it.scopedLive("a page read once is reused only until a commit, ours or another process's", () =>
    Effect.gen(function* () {
      const ours = yield* scopedSqliteEventStore({ path })
      const other = yield* scopedSqliteEventStore({ path })
      // Read from the end of the log: the page read (empty) is the one a repeated read would reuse.
      const after = (from: number) =>
        Effect.map(Stream.runCollect(ours.readAll(from)), (events) =>
          Chunk.toReadonlyArray(events).map((e) => e.id)
        )
      const { position } = yield* ours.append("space-1", [event()], "no_stream")
      expect(yield* after(position)).toEqual([])
      expect(yield* after(position)).toEqual([])
      // Another connection commits: the next read sees it at once, watcher or not.
      const second = event()
      yield* other.append("space-1", [second], 0)
      expect(yield* after(position)).toEqual([second.id])
      expect(yield* after(position + 1)).toEqual([])
      // And so for a commit of ours.
      const third = event()
      yield* ours.append("space-1", [third], 1)
      expect(yield* after(position + 1)).toEqual([third.id])
    })
  )

  it.scopedLive(
    "a stream another connection appended to behind our back: conflicts, appends and retries stay exact",
    () =>
      Effect.gen(function* () {
        const ours = yield* scopedSqliteEventStore({ path })
        const other = yield* scopedSqliteEventStore({ path })
        const revisions = (stream: string) =>
          Effect.map(ours.readStream(stream), (events) => events.map((e) => [e.revision, e.id]))
        // Ours writes (and remembers) revision 0; the other connection then writes revision 1.
        const first = event()
        yield* ours.append("space-1", [first], "no_stream")
        const second = event()
        yield* other.append("space-1", [second], 0)
        // Expecting the revision ours last wrote is a conflict naming the real one.
        const stale = yield* Effect.flip(ours.append("space-1", [event()], 0))
        expect(stale).toBeInstanceOf(WrongExpectedVersion)
        expect(stale).toMatchObject({ stream: "space-1", expected: 0, actual: 1 })
        // Expecting the real revision succeeds though ours never read it.
        const third = event()
        expect(yield* ours.append("space-1", [third], 1)).toMatchObject({ nextRevision: 2 })
        // "any" lands after the other connection's events, never on top of them.
        const fourth = event()
        yield* other.append("space-1", [fourth], 2)
        const fifth = event()
        expect(yield* ours.append("space-1", [fifth], "any")).toMatchObject({ nextRevision: 4 })
        // A retry through ours of what the other connection committed is answered as applied.
        const sixth = event()
        const applied = yield* other.append("space-1", [sixth], 4)
        expect(yield* ours.append("space-1", [sixth], 4)).toEqual(applied)
        expect(yield* revisions("space-1")).toEqual(
          [first, second, third, fourth, fifth, sixth].map((e, i) => [i, e.id])
        )
        // And in a group commit, where each append runs in a savepoint of its own.
        const seventh = event()
        yield* other.append("space-1", [seventh], 5)
        const [late, elsewhere] = yield* Effect.all(
          [
            Effect.either(ours.append("space-1", [event()], 5)),
            ours.append("space-2", [event()], "no_stream")
          ],
          { concurrency: "unbounded" }
        )
        expect(late._tag === "Left" && late.left).toMatchObject({ _tag: "WrongExpectedVersion", actual: 6 })
        expect(elsewhere).toMatchObject({ nextRevision: 0 })
        expect((yield* revisions("space-1")).length).toBe(7)
        // An empty append checks against the file too: the other connection's event moved the stream.
        yield* other.append("space-1", [event()], 6)
        expect(yield* Effect.flip(ours.append("space-1", [], 6))).toMatchObject({ actual: 7 })
        expect(yield* ours.append("space-1", [], 7)).toMatchObject({ nextRevision: 7 })
      })
  )

  it.scopedLive(
    "concurrent appends share a commit, each with its own outcome; one that fails fails alone",
    () =>
      Effect.gen(function* () {
        const store = yield* scopedSqliteEventStore({ path })
        yield* store.append("shared", [event()], "no_stream")
        const before = store.writer.groupCommits()
        // JSON cannot encode a BigInt: this append throws inside the group's transaction.
        const unencodable = { ...event(), data: { n: 1n } }
        const tags = yield* concurrentAppends(store, store.append("bad", [event(), unencodable], "no_stream"))
        expectOwnOutcomes(tags)
        // The first found the writer idle and committed at once; the sixteen that piled up behind it
        // went in one transaction, and the failed one left nothing behind, not even its first event.
        expect(store.writer.groupCommits() - before).toBe(2)
        expect(yield* store.readStream("bad")).toHaveLength(0)
        expect(yield* store.readStream("shared")).toHaveLength(2)
        expectLogAfterConcurrentAppends(Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(0))))
      })
  )

  it.live("with loopTurn, appends made in separate callbacks of one loop turn share a commit", () =>
    Effect.promise(async () => {
      // Two callbacks of one loop phase, as two sockets' requests read in one I/O phase would be;
      // each append starts at once (`immediate`), in its own callback.
      const inTwoCallbacks = (store: ReturnType<typeof makeSqliteEventStore>) =>
        new Promise<void>((resolve, reject) => {
          const done: Array<Promise<unknown>> = []
          const append = (stream: string) => {
            const fiber = Effect.runFork(store.append(stream, [event()], "any"), { immediate: true })
            done.push(Effect.runPromise(Fiber.join(fiber)))
          }
          setImmediate(() => append("a"))
          setImmediate(() => {
            append("b")
            Promise.all(done).then(() => resolve(), reject)
          })
        })
      const perTurn = makeSqliteEventStore({ path, groupCommit: "loopTurn" })
      const before = perTurn.writer.groupCommits()
      await inTwoCallbacks(perTurn)
      expect(perTurn.writer.groupCommits() - before).toBe(1)
      perTurn.close()
      const perMicrotasks = makeSqliteEventStore({ path })
      const then = perMicrotasks.writer.groupCommits()
      await inTwoCallbacks(perMicrotasks)
      expect(perMicrotasks.writer.groupCommits() - then).toBe(2)
      expect((await Effect.runPromise(perMicrotasks.readStream("a"))).length).toBe(2)
      perMicrotasks.close()
    })
  )

  it("an append to an idle writer commits at once, in the caller's fiber, and so does its next", () => {
    const store = makeSqliteEventStore({ path })
    try {
      // `runSync` throws if the effect suspends: none of these waits for a group.
      const outcomes = Effect.runSync(
        Effect.gen(function* () {
          const first = yield* store.append("space-1", [event(), event()], "no_stream")
          const second = yield* store.append("space-1", [event()], 1)
          const conflict = yield* Effect.flip(store.append("space-1", [event()], 0))
          const many = yield* store.appendMany!([
            { stream: "space-2", events: [event()], expected: "no_stream" }
          ])
          return { first, second, conflict, many }
        })
      )
      expect(outcomes).toMatchObject({
        first: { nextRevision: 1, position: 2 },
        second: { nextRevision: 2, position: 3 },
        conflict: { _tag: "WrongExpectedVersion", actual: 2 },
        many: [{ nextRevision: 0, position: 4 }]
      })
      expect(store.writer.groupCommits()).toBe(4)
      expect(Effect.runSync(store.readStream("space-1")).map((e) => e.revision)).toEqual([0, 1, 2])
    } finally {
      store.close()
    }
  })

  it("a refused multi-stream append leaves no trace in what the writer remembers of its streams", () => {
    const store = makeSqliteEventStore({ path })
    try {
      const outcome = Effect.runSync(
        Effect.gen(function* () {
          // Both streams remembered (revision 0) by the writer from their own appends.
          yield* store.append("a", [event()], "no_stream")
          yield* store.append("b", [event()], "no_stream")
          // Writes "a" at revision 1 (updating what the writer remembers of it), then is refused on
          // "b": rolled back, so "a" is at revision 0 again.
          const refused = yield* Effect.flip(
            store.appendMany!([
              { stream: "a", events: [event()], expected: 0 },
              { stream: "b", events: [event()], expected: 5 }
            ])
          )
          const known = store.knownRevision?.("a")
          const next = yield* store.append("a", [event()], 0)
          return { refused, known, next }
        })
      )
      expect(outcome.refused).toMatchObject({ _tag: "WrongExpectedVersion", stream: "b", actual: 0 })
      expect(outcome.known === undefined || outcome.known === 0).toBe(true)
      expect(outcome.next).toMatchObject({ nextRevision: 1, position: 3 })
      expect(Effect.runSync(store.readStream("a")).map((e) => e.revision)).toEqual([0, 1])
      expect(store.knownRevision?.("a")).toBe(1)
    } finally {
      store.close()
    }
  })

  it.scopedLive(
    "while appends pile up, a new burst shares one commit from its first; a group of one ends it",
    () =>
      Effect.gen(function* () {
        const store = yield* scopedSqliteEventStore({ path })
        const commits = store.writer.groupCommits
        const burst = (size: number) =>
          Effect.all(
            Array.from({ length: size }, () => store.append("burst", [event()], "any")),
            { concurrency: "unbounded" }
          )
        yield* burst(5)
        // Idle before it: the first committed at once, the four others together.
        expect(commits()).toBe(2)
        // Piling up now: the next burst's first waits too, all three share one commit.
        yield* burst(3)
        expect(commits()).toBe(3)
        // A lone append still waits once (a group of one), which ends the piling up.
        yield* store.append("burst", [event()], "any")
        expect(commits()).toBe(4)
        // Idle again once the run of microtasks that resumed us ended: the next one commits at once,
        // without suspending.
        yield* Effect.yieldNow()
        expect(Effect.runSync(store.append("burst", [event()], "any"))).toMatchObject({ nextRevision: 9 })
        expect(commits()).toBe(5)
      })
  )

  it.scopedLive("keeps the log across close and reopen (creating the directory)", () =>
    Effect.gen(function* () {
      const first = makeSqliteEventStore({ path })
      yield* first.append("space-1", [event(), event()], "no_stream")
      first.close()
      const store = yield* scopedSqliteEventStore({ path })
      expect((yield* store.readStream("space-1")).map((e) => e.revision)).toEqual([0, 1])
      expect((yield* store.append("space-1", [event()], 1)).position).toBe(3)
    })
  )

  it.scopedLive("UNIQUE(stream, revision) turns a racing insert into WrongExpectedVersion, not a crash", () =>
    Effect.gen(function* () {
      const store = yield* scopedSqliteEventStore({ path })
      yield* store.append("space-1", [event(), event()], "no_stream")
      // What a second writer with a stale read would do: insert at a revision already taken.
      const outcome = store.writer.insertUnchecked("space-1", [event()], 1)
      expect(outcome).toBeInstanceOf(WrongExpectedVersion)
      expect(outcome).toMatchObject({ stream: "space-1", expected: 0, actual: 1 })
      expect(yield* store.readStream("space-1")).toHaveLength(2)
    })
  )

  it.scopedLive("an unparseable stored payload is a MalformedEvent naming stream and revision", () =>
    Effect.gen(function* () {
      const store = yield* scopedSqliteEventStore({ path })
      yield* store.append("space-1", [event(), event("Broken")], "no_stream")
      corrupt("UPDATE events SET data = '{not json' WHERE revision = 1")
      const fromStream = yield* Effect.flip(store.readStream("space-1"))
      expect(fromStream).toBeInstanceOf(MalformedEvent)
      expect(fromStream).toMatchObject({ stream: "space-1", revision: 1, type: "Broken" })
      const fromAll = yield* Effect.flip(Stream.runCollect(store.readAll(0)))
      expect(fromAll).toMatchObject({ _tag: "MalformedEvent", stream: "space-1", revision: 1 })
      const fromSubscription = yield* Effect.flip(Stream.runCollect(store.subscribeAll(0)))
      expect(fromSubscription).toMatchObject({ _tag: "MalformedEvent", stream: "space-1", revision: 1 })
      // Reading past the broken event is unaffected.
      expect(yield* store.readStream("space-1", { fromRevision: 2 })).toEqual([])
      corrupt("UPDATE events SET metadata = 'nope' WHERE revision = 0")
      expect(yield* Effect.flip(store.readStream("space-1"))).toMatchObject({ revision: 0 })
    })
  )

  it.scopedLive("a subscriber wakes on commits made through another connection (another process)", () =>
    Effect.gen(function* () {
      const store = yield* scopedSqliteEventStore({ path })
      const other = yield* scopedSqliteEventStore({ path })
      const subscriber = yield* store
        .subscribeAll(0)
        .pipe(
          Stream.take(2),
          Stream.runCollect,
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no wake-up" }),
          Effect.fork
        )
      yield* Effect.sleep("50 millis")
      const written = [event(), event()]
      yield* other.append("space-1", written.slice(0, 1), "no_stream")
      yield* Effect.sleep("50 millis")
      yield* other.append("space-1", written.slice(1), 0)
      const got = Chunk.toReadonlyArray(yield* Fiber.join(subscriber))
      expect(got.map((e) => e.id)).toEqual(written.map((e) => e.id))
    })
  )

  it.scopedLive("checkpoints live in the same file and start at 0", () =>
    Effect.gen(function* () {
      const first = makeSqliteEventStore({ path })
      expect(yield* first.checkpoints.load("feed")).toBe(0)
      yield* first.checkpoints.save("feed", 42)
      yield* first.checkpoints.save("feed", 43)
      first.close()
      const store = yield* scopedSqliteEventStore({ path })
      expect(yield* store.checkpoints.load("feed")).toBe(43)
      expect(yield* store.checkpoints.load("other")).toBe(0)
    })
  )

  it.effect("the layer provides EventStore and CheckpointStore and closes the file on release", () =>
    Effect.gen(function* () {
      const layer = SqliteEventStore.layer({ path, synchronous: "full" })
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const checkpoints = yield* CheckpointStore
        yield* store.append("space-1", [event()], "no_stream")
        yield* checkpoints.save("feed", 1)
      }).pipe(Effect.provide(layer))
      // Released: the last connection closed, so SQLite checkpointed and removed the WAL.
      expect(existsSync(`${path}-wal`)).toBe(false)
      const raw = new Database(path, { readonly: true })
      expect(raw.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: 1 })
      raw.close()
    })
  )

  it.effect("a store that cannot be opened fails the layer with EventStoreUnavailable", () =>
    Effect.gen(function* () {
      // A path below a regular file: neither the directory nor the database can be created.
      writeFileSync(join(dir, "a-file"), "")
      const error = yield* Effect.flip(
        Effect.provide(EventStore, SqliteEventStore.layer({ path: join(dir, "a-file", "x.sqlite") }))
      )
      expect(error._tag).toBe("EventStoreUnavailable")
    })
  )

  it.scopedLive("reads after close fail with EventStoreUnavailable", () =>
    Effect.gen(function* () {
      const store = makeSqliteEventStore({ path })
      store.close()
      expect(yield* Effect.flip(store.readStream("space-1"))).toMatchObject({ _tag: "EventStoreUnavailable" })
      expect(yield* Effect.flip(store.append("space-1", [event()], "any"))).toMatchObject({
        _tag: "EventStoreUnavailable"
      })
    })
  )
})
