import type { EventStoreShape, MalformedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import type { Storage } from "../store/Storage.js"
import { CheckpointMoved, type Cursor, DecodedBatch, type StepFailed, stepBatch } from "./applyBatch.js"
import type { Projection } from "./Projection.js"

/** Events per transaction in a rebuild: big batches write each B-tree page fewer times. */
const REBUILD_BATCH = 65_536

/**
 * Drops `projections` and replays the log into them up to the log's current end (not live), in
 * one pass: each batch is read and decoded once for all of them and committed in one transaction
 * (each projection's rows with its own checkpoint). The operator's `spaces rebuild` and the
 * tests' "from scratch". Fails on the first event one of them cannot apply, with the batch up to
 * it committed.
 */
export const rebuildProjections = (
  store: EventStoreShape,
  storage: Storage,
  projections: ReadonlyArray<Projection>,
  onProgress: (position: number, applied: number) => void = () => {}
) =>
  Effect.gen(function* () {
    const cursors = projections.map((projection): Cursor => {
      storage.projection(projection.name).reset(projection.version)
      return { position: 0, at: null }
    })
    let position = 0
    let applied = 0
    yield* store.readAll(0).pipe(
      Stream.rechunk(REBUILD_BATCH),
      Stream.runForEachChunk((chunk) =>
        Effect.suspend((): Effect.Effect<void, CheckpointMoved | MalformedEvent | StepFailed> => {
          const batch = new DecodedBatch(Chunk.toReadonlyArray(chunk))
          const stepped = projections.map((projection, i) =>
            stepBatch(projection, storage.projection(projection.name), cursors[i] as Cursor, batch, {
              collectChanges: false
            })
          )
          const committed = storage.commitAll(
            projections.map((projection, i) => {
              const { writes, to } = stepped[i] as (typeof stepped)[number]
              return {
                projection: projection.name,
                writes,
                from: (cursors[i] as Cursor).position,
                to,
                version: projection.version
              }
            })
          )
          const refused = projections.find((_, i) => committed[i] !== true)
          if (refused !== undefined) return Effect.fail(new CheckpointMoved({ projection: refused.name }))
          stepped.forEach(({ to, at }, i) => {
            const cursor = cursors[i] as Cursor
            cursor.position = to
            cursor.at = at
          })
          position = Math.min(...cursors.map((c) => c.position))
          applied += Math.min(...stepped.map((s) => s.applied))
          onProgress(position, applied)
          const error = stepped.find((s) => s.error !== undefined)?.error
          return error === undefined ? Effect.void : Effect.fail(error)
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
