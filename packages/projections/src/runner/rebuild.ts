import type { EventStoreShape, MalformedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import type { Storage } from "../store/Storage.js"
import { applyBatchToAll, CheckpointMoved, DecodedBatch, type Placed, type StepFailed } from "./applyBatch.js"
import type { Projection } from "./Projection.js"

/** Events per transaction in a rebuild: big batches write each B-tree page fewer times. */
const REBUILD_BATCH = 65_536

/**
 * Drops `projections` and replays the log into them up to the log's current end (not live), in
 * one pass: each batch is read and decoded once for all of them and committed in one transaction
 * (each projection's rows with its own checkpoint). The operator's `spaces rebuild` and the
 * tests' "from scratch". Fails on the first event one of them cannot apply, with the batch up to
 * it committed.
 *
 * The resets are staged (see `ProjectionStore.reset`): a store may keep the batches in memory and
 * write them once, when the pass ends (`publish`), so that rows that come and go during the
 * rebuild (a listener's presence, a live Space's inbox rows) never reach the database. Until
 * then the stored checkpoints stay at 0: a crash mid-rebuild leaves empty views at 0, and the
 * next start (or rebuild) replays from there.
 */
export const rebuildProjections = (
  store: EventStoreShape,
  storage: Storage,
  projections: ReadonlyArray<Projection>,
  onProgress: (position: number, applied: number) => void = () => {}
) =>
  Effect.gen(function* () {
    const placed = projections.map((projection): Placed => {
      const { deferred } = projection
      storage
        .projection(projection.name)
        .reset(projection.version, deferred === undefined ? { staged: true } : { staged: true, deferred })
      return { projection, cursor: { position: 0, at: null } }
    })
    let position = 0
    let applied = 0
    yield* store.readAll(0).pipe(
      Stream.rechunk(REBUILD_BATCH),
      Stream.runForEachChunk((chunk) =>
        Effect.suspend((): Effect.Effect<void, CheckpointMoved | MalformedEvent | StepFailed> => {
          const batch = new DecodedBatch(Chunk.toReadonlyArray(chunk))
          const outcomes = applyBatchToAll(storage, placed, batch, { collectChanges: false })
          const refused = placed.find((_, i) => outcomes[i]?.refused === true)
          if (refused !== undefined)
            return Effect.fail(new CheckpointMoved({ projection: refused.projection.name }))
          position = Math.min(...placed.map((p) => p.cursor.position))
          applied += Math.min(...outcomes.map((o) => o.outcome.applied))
          onProgress(position, applied)
          const error = outcomes.find((o) => o.outcome.error !== undefined)?.outcome.error
          return error === undefined ? Effect.void : Effect.fail(error)
        })
      ),
      Effect.zipRight(
        Effect.suspend(() => {
          const moved = projections.find((p) => storage.projection(p.name).publish?.() === false)
          return moved === undefined
            ? Effect.void
            : Effect.fail(new CheckpointMoved({ projection: moved.name }))
        })
      ),
      Effect.ensuring(
        Effect.sync(() => {
          for (const projection of projections) storage.projection(projection.name).settle?.()
        })
      )
    )
    return { position, applied }
  })

/** `rebuildProjections` of one projection. */
export const rebuildProjection = (
  store: EventStoreShape,
  storage: Storage,
  projection: Projection,
  onProgress?: (position: number, applied: number) => void
) => rebuildProjections(store, storage, [projection], onProgress)
