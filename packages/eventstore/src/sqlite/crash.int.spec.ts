import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { type Acked, crashLogProblems, startCrashWriter } from "../contract/crashTest.js"
import { afterAll, describe, expect, it } from "vitest"
import type { SqliteSynchronous } from "./schema.js"
import { makeSqliteEventStore } from "./SqliteEventStore.js"

const writer = fileURLToPath(new URL("./testing/crashWriter.ts", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "spaces-crash-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ROUNDS = 6

const startWriter = (path: string, synchronous: SqliteSynchronous, firstBatch: number) =>
  startCrashWriter(writer, [path, synchronous, String(firstBatch)])

const readLog = (path: string) => {
  const store = makeSqliteEventStore({ path })
  try {
    return Chunk.toReadonlyArray(Effect.runSync(Stream.runCollect(store.readAll(0))))
  } finally {
    store.close()
  }
}

const checkLog = (log: ReadonlyArray<RecordedEvent>, acked: ReadonlyArray<Acked>) =>
  expect(crashLogProblems(log, acked)).toEqual([])

describe("SQLite crash safety: SIGKILL at a random moment", () => {
  it(`keeps every acknowledged batch whole and shows no partial batch (${ROUNDS} kills, both synchronous modes)`, async () => {
    // Rounds alternate between two files, one per durability mode; each restart on a file also
    // recovers the previous crash's WAL.
    const rounds = Array.from({ length: ROUNDS }, (_, round) => {
      const synchronous: SqliteSynchronous = round % 2 === 0 ? "normal" : "full"
      const path = join(dir, `${synchronous}.sqlite`)
      return { path, writer: startWriter(path, synchronous, round * 1_000_000) }
    })
    const acked = new Map<string, Acked[]>()
    try {
      for (const { path, writer } of rounds) {
        const all = acked.get(path) ?? []
        all.push(...(await writer.runAndKill()))
        acked.set(path, all)
        checkLog(readLog(path), all)
      }
    } finally {
      for (const { writer } of rounds) writer.kill()
    }
    for (const all of acked.values()) expect(all.length).toBeGreaterThan(3)
  }, 60_000)
})
