import { Readable } from "node:stream"
import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  type ReadPosition,
  StreamNotFoundError,
  WrongExpectedVersionError
} from "@eventstore/db-client"
import { it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { describe, expect } from "vitest"
import { makeEsdbEventStore } from "./EsdbEventStore.js"

/**
 * A stand-in for the parts of the ESDB client the adapter uses, to check the adapter's own logic
 * (paging, filtering, resubscription, conflict mapping) where no server can run. The real server
 * is covered by the contract suite when EVENTSTORE_CONNECTION_STRING is set.
 */
const recorded = (n: number, stream = "space-1", type = "Tested"): AllStreamResolvedEvent => ({
  event: {
    streamId: stream,
    id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    revision: BigInt(n),
    type,
    created: new Date(0),
    isJson: true,
    data: { n },
    metadata: { recordedAt: n },
    position: { commit: BigInt(n * 100), prepare: BigInt(n * 100) }
  }
})

const commitOf = (from: ReadPosition | undefined) =>
  from === undefined || from === "start" ? 0n : from === "end" ? -1n : from.commit

const asClient = (fake: object) => fake as unknown as EventStoreDBClient

describe("EventStoreDB adapter (against a stand-in client)", () => {
  it.live("readAll pages through $all, from exclusive, leaving out system and checkpoint events", () =>
    Effect.gen(function* () {
      const log = [
        recorded(1),
        recorded(2, "$stats-node", "$statsCollected"),
        recorded(3),
        recorded(4, "spaces-checkpoint-feed", "CheckpointSaved"),
        recorded(5),
        recorded(6)
      ]
      const reads: Array<bigint> = []
      const client = asClient({
        readAll: (options: { fromPosition?: ReadPosition; maxCount?: number }) => {
          const from = commitOf(options.fromPosition)
          reads.push(from)
          // Like the server: inclusive of `from`, at most maxCount raw events.
          return Readable.from(
            log.filter((e) => (e.event?.position?.commit ?? 0n) >= from).slice(0, options.maxCount ?? 1000)
          )
        }
      })
      const store = makeEsdbEventStore(client, { pageSize: 2 })
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(100)))
      expect(all.map((e) => e.position)).toEqual([300, 500, 600])
      expect(all[0]).toMatchObject({ streamId: "space-1", revision: 3, data: { n: 3 } })
      expect(reads[0]).toBe(100n)
    })
  )

  it.live("a dropped subscription resumes from its last position, without duplicates", () =>
    Effect.gen(function* () {
      const subscribedFrom: Array<bigint> = []
      const client = asClient({
        subscribeToAll: (options: { fromPosition?: ReadPosition }) => {
          const from = commitOf(options.fromPosition)
          subscribedFrom.push(from)
          const first = subscribedFrom.length === 1
          const source = first ? [recorded(1), recorded(2)] : [recorded(2), recorded(3)]
          const readable = new Readable({ objectMode: true, read() {} })
          for (const event of source) readable.push(event)
          // The first subscription drops; the second stays open (live).
          if (first) setTimeout(() => readable.destroy(new Error("connection reset")), 10)
          return Object.assign(readable, { unsubscribe: async () => void readable.destroy() })
        }
      })
      const store = makeEsdbEventStore(client, { initialBackoff: "1 millis", maxBackoff: "5 millis" })
      const got = Chunk.toReadonlyArray(
        yield* store.subscribeAll(0).pipe(Stream.take(3), Stream.runCollect, Effect.timeout("5 seconds"))
      )
      expect(got.map((e) => e.position)).toEqual([100, 200, 300])
      expect(subscribedFrom).toEqual([0n, 200n])
    })
  )

  it.live("a conflict with actualVersion no_stream maps to WrongExpectedVersion (no crash)", () =>
    Effect.gen(function* () {
      const client = asClient({
        appendToStream: async () => {
          throw new WrongExpectedVersionError(undefined, {
            streamName: "space-1",
            expected: "stream_exists",
            current: "no_stream"
          })
        },
        readStream: () =>
          Readable.from(
            (async function* () {
              yield* []
              throw new StreamNotFoundError(undefined, "space-1")
            })()
          )
      })
      const store = makeEsdbEventStore(client)
      const error = yield* Effect.flip(
        store.append(
          "space-1",
          [{ id: "00000000-0000-4000-8000-000000000001", type: "T", data: {}, metadata: { recordedAt: 1 } }],
          "stream_exists"
        )
      )
      expect(error).toMatchObject({
        _tag: "WrongExpectedVersion",
        actual: "no_stream",
        expected: "stream_exists"
      })
    })
  )
})
