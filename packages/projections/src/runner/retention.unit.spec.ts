import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import type { RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { makeMemoryStorage } from "../store/MemoryStorage.js"
import type { Projection } from "./Projection.js"
import { makeRunners } from "./Runner.js"

// A full collection on demand, so that what is still reachable is exactly what something keeps.
setFlagsFromString("--expose-gc")
const collectGarbage = runInNewContext("gc") as () => void

const BATCHES = 2_000
const at = Date.UTC(2026, 0, 1)

/** A fresh event object at `position`: nothing but the runner's reader holds it once delivered. */
const recorded = (position: number): RecordedEvent => ({
  id: `e${position}`,
  streamId: "user-u1",
  revision: position - 1,
  position,
  type: "UserFollowed",
  data: { _tag: "UserFollowed", user: "u1", followee: `u${position + 1}`, at },
  metadata: { recordedAt: at }
})

const counting: Projection = {
  name: "counting",
  version: 1,
  handles: new Set(["UserFollowed"]),
  step: (tx) => tx.put("n", "", "", (tx.get<number>("n", "", "") ?? 0) + 1)
}

describe("the runners' reader", () => {
  // The live log never ends: whatever the reader keeps per batch it keeps forever.
  it("keeps no batch of the log it has applied, on a log that never ends", async () => {
    const delivered: Array<WeakRef<RecordedEvent>> = []
    const live = Stream.fromIterable(Array.from({ length: BATCHES }, (_, i) => i + 1)).pipe(
      Stream.mapChunks((positions) =>
        Chunk.map(positions, (position) => {
          const event = recorded(position)
          delivered.push(new WeakRef(event))
          return event
        })
      ),
      Stream.rechunk(1),
      Stream.concat(Stream.never)
    )
    const runners = makeRunners({
      projections: [counting],
      storage: makeMemoryStorage(),
      log: {
        from: () => live,
        head: () => ({ position: BATCHES, at, known: true })
      },
      publish: () => Effect.void,
      progressed: () => {},
      liveBatchMs: 0
    })
    const cursor = runners.runners[0]!.cursor
    await Effect.runPromise(
      Effect.gen(function* () {
        const reading = yield* Effect.fork(runners.run)
        while (cursor.position < BATCHES) {
          // Stopped early: its failure, not a timeout.
          const ended = yield* Fiber.poll(reading)
          if (ended._tag === "Some")
            return yield* Effect.die(new Error(`the runner ended: ${String(ended.value)}`))
          yield* Effect.sleep("5 millis")
        }
        // A turn of the event loop between collections: a WeakRef's target read in this turn stays.
        for (let i = 0; i < 2; i++) {
          yield* Effect.sleep("10 millis")
          collectGarbage()
        }
        const kept = delivered.filter((ref) => ref.deref() !== undefined).length
        expect(delivered).toHaveLength(BATCHES)
        // The batch in hand at most, not one per batch applied.
        expect(kept).toBeLessThan(10)
        yield* Fiber.interrupt(reading)
      })
    )
  })
})
