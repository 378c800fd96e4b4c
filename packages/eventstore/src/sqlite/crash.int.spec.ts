import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { type Acked, startCrashWriter } from "../contract/crashTest.js"
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

const checkLog = (log: ReadonlyArray<RecordedEvent>, acked: ReadonlyArray<Acked>) => {
  const batches = new Map<number, { size: number; indexes: number[] }>()
  for (const event of log) {
    const data = event.data as { batch: number; index: number; size: number }
    const seen = batches.get(data.batch) ?? { size: data.size, indexes: [] }
    seen.indexes.push(data.index)
    batches.set(data.batch, seen)
  }
  // Every acknowledged batch is there, whole.
  for (const { batch, size } of acked) {
    expect(batches.get(batch)?.indexes, `acknowledged batch ${batch}`).toEqual(
      Array.from({ length: size }, (_, i) => i)
    )
  }
  // No partial batch is visible (at most one batch past the last acknowledgement: committed, not yet printed).
  for (const [batch, { size, indexes }] of batches) {
    expect(indexes, `batch ${batch}`).toEqual(Array.from({ length: size }, (_, i) => i))
  }
  // Positions strictly increase and each stream's revisions have no gaps.
  const next = new Map<string, number>()
  let position = 0
  for (const event of log) {
    expect(event.position).toBeGreaterThan(position)
    position = event.position
    expect(event.revision).toBe(next.get(event.streamId) ?? 0)
    next.set(event.streamId, event.revision + 1)
  }
}

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
