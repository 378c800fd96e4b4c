import type { EventStoreShape, MalformedEvent, RecordedEvent } from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import type { Storage } from "../store/Storage.js"
import {
  CheckpointMoved,
  type Cursor,
  DecodedBatch,
  overlayOf,
  type StepFailed,
  stepBatch
} from "./applyBatch.js"
import type { Projection } from "./Projection.js"

/** Events read and decoded at a time. */
const REBUILD_BATCH = 65_536
/**
 * Pending rows (all projections) from which a rebuild commits. Until then the batches' writes are
 * merged in memory: a row written by many batches (a live Space's document) is written once, and a
 * row that lived and died between two commits (a presence, a member) never reaches SQLite.
 */
const REBUILD_COMMIT_ROWS = 1_000_000

/**
 * Drops `projections` and replays the log into them up to the log's current end (not live), in
 * one pass: each batch is read and decoded once for all of them. Their writes are merged in memory
 * across batches and committed in one transaction (each projection's rows with its own checkpoint)
 * whenever `REBUILD_COMMIT_ROWS` rows are pending, and at the end. The operator's `spaces rebuild`
 * and the tests' "from scratch". Fails on the first event one of them cannot apply, with the
 * events before it committed.
 */
export const rebuildProjections = (
  store: EventStoreShape,
  storage: Storage,
  projections: ReadonlyArray<Projection>,
  onProgress: (position: number, applied: number) => void = () => {},
  /** Smaller than the defaults in tests, so that several batches and commits happen. */
  limits: { readonly batchEvents?: number; readonly commitRows?: number } = {}
) =>
  Effect.gen(function* () {
    const commitRows = limits.commitRows ?? REBUILD_COMMIT_ROWS
    const placed = projections.map((projection) => {
      const rows = storage.projection(projection.name)
      rows.reset(projection.version)
      // `cursor`: what is committed; `ahead`: what is stepped into `pending`, not yet committed.
      return {
        projection,
        rows,
        cursor: { position: 0, at: null } as Cursor,
        ahead: { position: 0, at: null } as Cursor,
        pending: overlayOf(rows),
        applied: 0
      }
    })
    const commit = Effect.suspend((): Effect.Effect<void, CheckpointMoved> => {
      const moving = placed.filter((p) => p.ahead.position > p.cursor.position)
      const committed = storage.commitAll(
        moving.map((p) => ({
          projection: p.projection.name,
          writes: p.pending.writes,
          from: p.cursor.position,
          to: p.ahead.position,
          version: p.projection.version
        }))
      )
      const refused = moving.find((_, i) => committed[i] !== true)
      if (refused !== undefined)
        return Effect.fail(new CheckpointMoved({ projection: refused.projection.name }))
      for (const p of moving) {
        p.cursor.position = p.ahead.position
        p.cursor.at = p.ahead.at
      }
      // After the commit: the store's copy now holds what was pending.
      for (const p of placed) p.pending = overlayOf(p.rows)
      return Effect.void
    })
    const step = (chunk: Chunk.Chunk<RecordedEvent>) =>
      Effect.suspend((): Effect.Effect<void, CheckpointMoved | MalformedEvent | StepFailed> => {
        const batch = new DecodedBatch(Chunk.toReadonlyArray(chunk))
        const snapshot = storage.snapshot ?? (<A>(read: () => A) => read())
        const stepped = snapshot(() =>
          placed.map((p) =>
            stepBatch(p.projection, p.rows, p.ahead, batch, { collectChanges: false, overlay: p.pending })
          )
        )
        let pendingRows = 0
        placed.forEach((p, i) => {
          const { to, at, applied } = stepped[i]!
          p.ahead.position = to
          p.ahead.at = at
          p.applied += applied
          pendingRows += p.pending.size
        })
        onProgress(
          Math.min(...placed.map((p) => p.ahead.position)),
          Math.min(...placed.map((p) => p.applied))
        )
        const error = stepped.find((s) => s.error !== undefined)?.error
        // On an error, what was stepped before it is committed, then the rebuild fails.
        if (error !== undefined) return Effect.zipRight(commit, Effect.fail(error))
        return pendingRows >= commitRows ? commit : Effect.void
      })
    yield* store.readAll(0).pipe(
      Stream.rechunk(limits.batchEvents ?? REBUILD_BATCH),
      Stream.runForEachChunk(step),
      Effect.zipRight(commit),
      Effect.ensuring(
        Effect.sync(() => {
          for (const projection of projections) storage.projection(projection.name).settle?.()
        })
      )
    )
    return {
      position: Math.min(...placed.map((p) => p.cursor.position)),
      applied: Math.min(...placed.map((p) => p.applied))
    }
  })

/** `rebuildProjections` of one projection. */
export const rebuildProjection = (
  store: EventStoreShape,
  storage: Storage,
  projection: Projection,
  onProgress?: (position: number, applied: number) => void
) => rebuildProjections(store, storage, [projection], onProgress)
