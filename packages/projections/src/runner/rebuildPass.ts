import type { MalformedEvent, RecordedEvent } from "@spaces/domain"
import type { Storage } from "../store/Storage.js"
import { applyBatchToAll, CheckpointMoved, DecodedBatch, type Placed, type StepFailed } from "./applyBatch.js"
import type { Projection } from "./Projection.js"

/** Why a rebuild stopped. */
export type RebuildFailure = CheckpointMoved | MalformedEvent | StepFailed

/**
 * The synchronous heart of a rebuild, the same on the main thread and in a rebuild worker: resets
 * `projections` (staged, see `ProjectionStore.reset`), steps them batch by batch, and publishes
 * them when the log is read. `position` and `applied` are the lowest of its projections'
 * (`Infinity` with none, so that a caller's minimum over several passes ignores an empty one).
 */
export interface RebuildPass {
  readonly apply: (events: ReadonlyArray<RecordedEvent>) => RebuildFailure | undefined
  /** Writes every projection's staged rows with its checkpoint; a projection whose checkpoint moved fails it. */
  readonly publish: () => CheckpointMoved | undefined
  /** Publishes what is still staged (the events before a failure) and drops the in-memory copies. */
  readonly settle: () => void
  readonly position: () => number
  readonly applied: () => number
}

export const makeRebuildPass = (storage: Storage, projections: ReadonlyArray<Projection>): RebuildPass => {
  const placed = projections.map((projection): Placed => {
    storage.projection(projection.name).reset(projection.version, { staged: true })
    return { projection, cursor: { position: 0, at: null } }
  })
  let position = placed.length === 0 ? Number.POSITIVE_INFINITY : 0
  let applied = placed.length === 0 ? Number.POSITIVE_INFINITY : 0
  return {
    apply: (events) => {
      if (placed.length === 0) return undefined
      const outcomes = applyBatchToAll(storage, placed, new DecodedBatch(events), { collectChanges: false })
      const refused = placed.find((_, i) => outcomes[i]?.refused === true)
      if (refused !== undefined) return new CheckpointMoved({ projection: refused.projection.name })
      position = Math.min(...placed.map((p) => p.cursor.position))
      applied += Math.min(...outcomes.map((o) => o.outcome.applied))
      return outcomes.find((o) => o.outcome.error !== undefined)?.outcome.error
    },
    publish: () => {
      const moved = projections.find((p) => storage.projection(p.name).publish?.() === false)
      return moved === undefined ? undefined : new CheckpointMoved({ projection: moved.name })
    },
    settle: () => {
      for (const projection of projections) storage.projection(projection.name).settle?.()
    },
    position: () => position,
    applied: () => applied
  }
}
