import { fileURLToPath } from "node:url"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { type Acked, startCrashWriter } from "../contract/crashTest.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makePostgresEventStore } from "./PostgresEventStore.js"
import { type PostgresCluster, startPostgresCluster } from "./testing/cluster.js"

const writerScript = fileURLToPath(new URL("./testing/crashWriter.ts", import.meta.url))
const ROUNDS = 4

let cluster: PostgresCluster
// Durable settings: the server is what must keep an acknowledged commit, so fsync stays on.
beforeAll(async () => {
  cluster = await startPostgresCluster()
})
afterAll(() => cluster?.stop())

const startWriter = (url: string, firstBatch: number) =>
  startCrashWriter(writerScript, [url, String(firstBatch)])

const readLog = async (url: string) => {
  const store = await makePostgresEventStore({ connectionString: url })
  try {
    return Chunk.toReadonlyArray(await Effect.runPromise(Stream.runCollect(store.readAll(0))))
  } finally {
    await store.close()
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
  // No partial batch is visible (committed but unacknowledged batches are whole too).
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

describe("PostgreSQL crash safety: SIGKILL of a writer process at a random moment", () => {
  it(`keeps every acknowledged batch whole and shows no partial batch (${ROUNDS} kills, 4 appends in flight)`, async () => {
    const url = await cluster.createDatabase()
    // The first writer creates the schema; later ones start ahead of their round.
    const rounds = Array.from({ length: ROUNDS }, (_, round) => startWriter(url, round * 1_000_000))
    const acked: Acked[] = []
    try {
      for (const writer of rounds) {
        acked.push(...(await writer.runAndKill()))
        checkLog(await readLog(url), acked)
      }
    } finally {
      for (const writer of rounds) writer.kill()
    }
    expect(acked.length).toBeGreaterThan(3 * ROUNDS)
  }, 120_000)
})
