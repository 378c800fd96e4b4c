import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { makeLogFollower, type RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Fiber, Queue, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeSqliteEventStore } from "./SqliteEventStore.js"

const writer = fileURLToPath(new URL("./testing/crashWriter.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "spaces-follower-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the crash test's writer on `path` until it has acknowledged `batches` appends, then kills it. */
const appendFromAnotherProcess = (path: string, batches: number) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@spaces/source", "--import", "tsx", writer, path, "normal", "0"],
      { stdio: ["pipe", "pipe", "inherit"] }
    )
    let acks = 0
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      acks += chunk.split("\n").filter((line) => line.startsWith("ack")).length
      if (acks >= batches) child.kill("SIGKILL")
    })
    child.on("error", reject)
    child.on("close", (_code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`writer ended before ${batches} appends`))
    )
    child.stdin.write("go\n")
  })

const positions = (events: Iterable<RecordedEvent>) => [...events].map((e) => e.position)

describe("the log follower over an SQLite file another process appends to", () => {
  it("delivers every event the other process committed, in order, to consumers behind and live", async () => {
    const path = join(dir, "shared.sqlite")
    const store = makeSqliteEventStore({ path })
    try {
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const follower = yield* makeLogFollower(store)
            const fromStart = yield* Effect.fork(
              Stream.runForEach(follower.from(0), () => Effect.void).pipe(Effect.as(0))
            )
            yield* follower.known
            const live = yield* follower.live
            yield* Effect.promise(() => appendFromAnotherProcess(path, 300))
            // What the other process committed, as a fresh reader of the file sees it.
            const committed = positions(yield* Stream.runCollect(store.readAll(0)))
            expect(committed.length).toBeGreaterThan(300)
            // Woken by the file changing (inotify, else the 2-second check), never by this process.
            const got = yield* Queue.takeN(live, committed.length).pipe(Effect.timeout("30 seconds"))
            expect(positions(got)).toEqual(committed)
            const behind = yield* Stream.runCollect(Stream.take(follower.from(0), committed.length))
            expect(positions(Chunk.toReadonlyArray(behind))).toEqual(committed)
            yield* Fiber.interrupt(fromStart)
          })
        )
      )
    } finally {
      store.close()
    }
  }, 60_000)
})
