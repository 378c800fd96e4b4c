import type { EventStoreShape, RecordedEvent } from "@spaces/domain"
import { Effect, Schedule, Stream } from "effect"

/** The end of the log as far as known: its last position and when that event was recorded. */
export interface Head {
  position: number
  at: number | null
  /**
   * The log has been read to its end once. Until then nobody can tell a runner with nothing left
   * to read (an empty log, a restart at the end) from one that has not been told about the rest.
   */
  known: boolean
}

/**
 * Follows the log's head (no decoding, so it runs ahead of the runners during a rebuild and gives
 * their lag): reads to the end of the log once, which makes the head known, then subscribes after
 * it. Started from the furthest checkpoint, it reads only the tail it has not seen.
 */
export const followHead = (store: EventStoreShape, head: Head) =>
  Effect.suspend(() => {
    const advance = <E>(events: Stream.Stream<RecordedEvent, E>) =>
      Stream.runForEachChunk(events, (chunk) =>
        Effect.sync(() => {
          for (const event of chunk) {
            if (event.position > head.position) {
              head.position = event.position
              head.at = event.metadata.recordedAt
            }
          }
        })
      )
    return advance(store.readAll(head.position)).pipe(
      Effect.zipRight(
        Effect.suspend(() => {
          head.known = true
          return advance(store.subscribeAll(head.position))
        })
      )
    )
  }).pipe(
    Effect.tapError((error) =>
      Effect.logWarning("projections: following the log's head failed; retrying", error)
    ),
    Effect.retry(Schedule.spaced("1 second"))
  )
