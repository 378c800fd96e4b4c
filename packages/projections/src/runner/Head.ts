import type { EventStoreShape } from "@spaces/domain"
import { Effect, Schedule, Stream } from "effect"

/** The end of the log as far as known: its last position and when that event was recorded. */
export interface Head {
  position: number
  at: number | null
}

/**
 * Follows the log's head with a subscription of its own (no decoding, so it runs ahead of the
 * runners during a rebuild and gives their lag). Started from the furthest checkpoint, it reads
 * only the tail it has not seen.
 */
export const followHead = (store: EventStoreShape, head: Head) =>
  Effect.suspend(() =>
    store.subscribeAll(head.position).pipe(
      Stream.runForEachChunk((chunk) =>
        Effect.sync(() => {
          for (const event of chunk) {
            if (event.position > head.position) {
              head.position = event.position
              head.at = event.metadata.recordedAt
            }
          }
        })
      )
    )
  ).pipe(
    Effect.tapError((error) =>
      Effect.logWarning("projections: following the log's head failed; retrying", error)
    ),
    Effect.retry(Schedule.spaced("1 second"))
  )
