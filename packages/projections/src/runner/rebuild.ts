import type { EventStoreShape } from "@spaces/domain"
import { Effect, Stream } from "effect"
import type { ProjectionStore } from "../store/Storage.js"
import { applyBatch, type Cursor } from "./applyBatch.js"
import type { Projection } from "./Projection.js"

/** Events per transaction in a rebuild: big batches write each B-tree page fewer times. */
const REBUILD_BATCH = 65_536

/**
 * Drops a projection and replays the log into it up to the log's current end (not live): the
 * operator's `spaces rebuild` and the tests' "from scratch". Fails on the first event it cannot
 * apply, with the rows before it committed.
 */
export const rebuildProjection = (
  store: EventStoreShape,
  storage: ProjectionStore,
  projection: Projection,
  onProgress: (position: number, applied: number) => void = () => {}
) =>
  Effect.gen(function* () {
    storage.reset(projection.version)
    const cursor: Cursor = { position: 0, at: null }
    let applied = 0
    yield* store.readAll(0).pipe(
      Stream.rechunk(REBUILD_BATCH),
      Stream.runForEachChunk((chunk) =>
        Effect.suspend(() => {
          const outcome = applyBatch(projection, storage, cursor, chunk)
          applied += outcome.applied
          onProgress(cursor.position, applied)
          return outcome.error === undefined ? Effect.void : Effect.fail(outcome.error)
        })
      ),
      Effect.ensuring(Effect.sync(() => storage.settle?.()))
    )
    return { position: cursor.position, applied }
  })
