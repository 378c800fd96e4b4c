import type { EventStoreShape } from "@spaces/domain"
import { Effect, Stream } from "effect"
import type { ViewChange } from "../ReadModels.js"
import type { ProjectionStore } from "../store/Storage.js"
import type { RunnerStatus } from "../views.js"
import { applyBatch, type Cursor, mergeChanges } from "./applyBatch.js"
import type { Head } from "./Head.js"
import type { Projection } from "./Projection.js"

/** Events between two progress lines while a runner is far behind (a rebuild). */
const PROGRESS_EVERY = 100_000

export interface Runner {
  readonly projection: Projection
  /** Runs the projection forever (until interrupted or stopped by an event it cannot apply). */
  readonly run: Effect.Effect<void>
  readonly cursor: Cursor
  readonly status: () => RunnerStatus
}

/**
 * Loads the checkpoint (dropping the rows when the projection's version changed), subscribes to
 * the log after it, and applies each batch the subscription delivers in one transaction with the
 * checkpoint. A malformed event or a failing step stops this projection only: its status says
 * "failed" with the error (stream and revision), the checkpoint stays before the event, and the
 * other projections carry on. Skipping would silently make the view wrong; a restart after a
 * fix (or a corrected log) resumes exactly there.
 */
export const makeRunner = (options: {
  readonly projection: Projection
  readonly storage: ProjectionStore
  readonly store: EventStoreShape
  readonly head: Head
  readonly publish: (changes: ReadonlyArray<ViewChange>) => Effect.Effect<void>
  /** Called after each batch committed and when the runner stops: wakes read-your-writes waits. */
  readonly progressed: () => void
}): Runner => {
  const { projection, storage, store, head, publish, progressed } = options
  const cursor: Cursor = { position: 0, at: null }
  /** Why the runner stopped, once it has. */
  let error: string | null = null
  /** Live: it has applied everything up to the log's end, as far as that is known. */
  const caughtUp = () => head.known && cursor.position >= head.position

  const start = () => {
    const checkpoint = storage.checkpoint()
    if (checkpoint === undefined || checkpoint.version !== projection.version) {
      storage.reset(projection.version)
      cursor.position = 0
      cursor.at = null
    } else if (checkpoint.position !== cursor.position) {
      cursor.position = checkpoint.position
      cursor.at = null
    }
  }

  const progress = (from: number) =>
    Effect.logInfo(
      `projection ${projection.name}: catching up, at ${cursor.position.toLocaleString("en-US")} of ${head.position.toLocaleString("en-US")} (${Math.floor((cursor.position * 100) / Math.max(1, head.position))}%), ${(cursor.position - from).toLocaleString("en-US")} events since start`
    )

  const once = Effect.suspend(() => {
    start()
    const from = cursor.position
    let nextProgress = from + PROGRESS_EVERY
    return store.subscribeAll(cursor.position).pipe(
      Stream.runForEachChunk((chunk) =>
        Effect.suspend(() => {
          const outcome = applyBatch(projection, storage, cursor, chunk)
          if (cursor.position > head.position) {
            head.position = cursor.position
            head.at = cursor.at
          }
          const live = caughtUp()
          if (live) storage.settle?.()
          progressed()
          const done = publish(mergeChanges(outcome.changes))
          const report = cursor.position >= nextProgress && !live
          if (report) nextProgress = cursor.position + PROGRESS_EVERY
          const next = report ? Effect.zipRight(done, progress(from)) : done
          return outcome.error === undefined ? next : Effect.zipRight(next, Effect.fail(outcome.error))
        })
      )
    )
  })

  const run: Effect.Effect<void> = once.pipe(
    Effect.catchTags({
      CheckpointMoved: () =>
        Effect.zipRight(
          Effect.logInfo(`projection ${projection.name}: checkpoint moved elsewhere, reloading`),
          run
        ),
      EventStoreUnavailable: (e) =>
        Effect.logWarning(`projection ${projection.name}: ${e.message}; retrying`).pipe(
          Effect.zipRight(Effect.sleep("1 second")),
          Effect.zipRight(run)
        ),
      MalformedEvent: (e) => stop(e.message),
      StepFailed: (e) => stop(e.message)
    })
  )

  const stop = (message: string) =>
    Effect.suspend(() => {
      error = message
      storage.fail(projection.version, message)
      progressed()
      return Effect.logError(`projection ${projection.name} stopped: ${message}`)
    })

  return {
    projection,
    run,
    cursor,
    status: () => {
      const lagEvents = Math.max(0, head.position - cursor.position)
      return {
        name: projection.name,
        version: projection.version,
        checkpoint: cursor.position,
        head: Math.max(head.position, cursor.position),
        lagEvents,
        lagSeconds:
          lagEvents === 0 || head.at === null ? 0 : Math.max(0, (head.at - (cursor.at ?? head.at)) / 1000),
        state: error !== null ? "failed" : caughtUp() ? "live" : "catching-up",
        error
      }
    }
  }
}
