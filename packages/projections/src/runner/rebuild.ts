import type { EventStoreShape } from "@spaces/domain"
import { Chunk, Effect, Exit, Stream } from "effect"
import type { Storage } from "../store/Storage.js"
import { type Offload, type RebuildWorker, startRebuildWorker } from "./offload.js"
import type { Projection } from "./Projection.js"
import { REBUILD_BATCH } from "./rebuildBatch.js"
import { makeRebuildPass, type RebuildPass } from "./rebuildPass.js"

export interface RebuildOptions {
  /** Called after each batch with the lowest position and applied count of the projections. */
  readonly onProgress?: (position: number, applied: number) => void
  /** Some of the projections stepped in a worker thread, on another core (see `Offload`). */
  readonly offload?: Offload
}

/**
 * Drops `projections` and replays the log into them up to the log's current end (not live), in
 * one pass: each batch is read once and decoded once for all of them (per thread, see below).
 * The operator's `spaces rebuild` and the tests' "from scratch". Fails on the first event one of
 * them cannot apply, with the events before it kept.
 *
 * The resets are staged (see `ProjectionStore.reset`): a store may keep the batches in memory and
 * write them once, when the pass ends (`publish`), so that rows that come and go during the
 * rebuild (a listener's presence, a live Space's inbox rows) never reach the database. Until
 * then the stored checkpoints stay at 0: a crash mid-rebuild leaves empty views at 0, and the
 * next start (or rebuild) replays from there.
 *
 * With `offload`, the projections it names are rebuilt by a worker thread over its own
 * connection to the views file: this thread reads each batch, posts it to the worker, then steps
 * its own projections through it while the worker steps the others (at most two batches ahead of
 * the worker). This side publishes its projections first, then the worker its own.
 */
export const rebuildProjections = (
  store: EventStoreShape,
  storage: Storage,
  projections: ReadonlyArray<Projection>,
  options: RebuildOptions = {}
) =>
  Effect.gen(function* () {
    const onProgress = options.onProgress ?? (() => {})
    const offload = options.offload
    const names = offload?.names ?? []
    const offloaded = projections.filter((p) => names.includes(p.name))
    const pass = makeRebuildPass(
      storage,
      projections.filter((p) => !names.includes(p.name))
    )
    if (offloaded.length === 0 || offload === undefined) {
      yield* readInto(store, pass, undefined, onProgress)
      return { position: pass.position(), applied: pass.applied() }
    }
    // Interrupted or failed, the worker thread stops at once (its projections left at 0, as after a crash).
    return yield* Effect.acquireUseRelease(
      startRebuildWorker(offload, offloaded),
      (worker) =>
        Effect.gen(function* () {
          const read = yield* Effect.exit(readInto(store, pass, worker, onProgress))
          // The worker publishes what it stepped whether or not this side failed (as this side
          // does); this side's failure comes first.
          const finished = yield* Effect.exit(worker.finish(Exit.isFailure(read)))
          yield* read
          yield* finished
          const total = {
            position: Math.min(pass.position(), worker.position()),
            applied: Math.min(pass.applied(), worker.applied())
          }
          onProgress(total.position, total.applied)
          return total
        }),
      (worker) => worker.terminate
    )
  })

/**
 * Reads the log in batches into `pass` (and `worker`: each batch posted first, so that it steps
 * the batch while this thread does), then publishes `pass`'s projections.
 */
const readInto = (
  store: EventStoreShape,
  pass: RebuildPass,
  worker: RebuildWorker | undefined,
  onProgress: (position: number, applied: number) => void
) =>
  store.readAll(0).pipe(
    Stream.rechunk(REBUILD_BATCH),
    Stream.runForEachChunk((chunk) => {
      const events = Chunk.toReadonlyArray(chunk)
      return Effect.zipRight(
        worker === undefined ? Effect.void : worker.post(events),
        Effect.suspend(() => {
          const failure = pass.apply(events)
          onProgress(
            Math.min(pass.position(), worker?.position() ?? Number.POSITIVE_INFINITY),
            Math.min(pass.applied(), worker?.applied() ?? Number.POSITIVE_INFINITY)
          )
          return failure === undefined ? Effect.void : Effect.fail(failure)
        })
      )
    }),
    Effect.zipRight(
      Effect.suspend(() => {
        const moved = pass.publish()
        return moved === undefined ? Effect.void : Effect.fail(moved)
      })
    ),
    Effect.ensuring(Effect.sync(pass.settle))
  )

/** `rebuildProjections` of one projection. */
export const rebuildProjection = (
  store: EventStoreShape,
  storage: Storage,
  projection: Projection,
  onProgress?: (position: number, applied: number) => void
) => rebuildProjections(store, storage, [projection], onProgress === undefined ? {} : { onProgress })
