import { fileURLToPath } from "node:url"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { type Acked, crashLogProblems, startCrashWriter } from "../contract/crashTest.js"
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

const checkLog = (log: ReadonlyArray<RecordedEvent>, acked: ReadonlyArray<Acked>) =>
  expect(crashLogProblems(log, acked)).toEqual([])

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
