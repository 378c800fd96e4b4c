import { Chunk, Deferred, Effect, FiberId, Option, Stream } from "effect"
import type { RecordedEvent } from "./EventStore.js"

/**
 * A wake-up signal for subscribers: writers call `notify` after each commit; readers wait on the
 * current generation. No polling: an idle subscriber costs nothing.
 */
export class CommitSignal {
  private current = Deferred.unsafeMake<void>(FiberId.none)

  notify(): void {
    const previous = this.current
    this.current = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(previous, Effect.void)
  }

  /** An effect that completes on the first `notify` after this call (not after it is run). */
  nextCommit(): Effect.Effect<void> {
    return Deferred.await(this.current)
  }
}

/**
 * Catch-up then live: reads pages after `from` with `readPage`, and when a page comes back empty,
 * waits for the next commit. Exclusive positions: every emitted event has `position > from`.
 */
export const catchUpThenLive = <E>(
  from: number,
  readPage: (after: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, E>,
  signal: CommitSignal,
  /** Run after each wake-up, before reading: e.g. a pause that lets more commits land. */
  afterWake: Effect.Effect<void> = Effect.void
): Stream.Stream<RecordedEvent, E> =>
  Stream.paginateChunkEffect(from, (after) =>
    Effect.gen(function* () {
      // Take the wait handle before reading, so that a commit between the read and the wait
      // is not missed.
      const wake = signal.nextCommit()
      const page = yield* readPage(after)
      const last = page.at(-1)
      if (last === undefined) {
        yield* wake
        yield* afterWake
        return [Chunk.empty<RecordedEvent>(), Option.some(after)] as const
      }
      return [Chunk.unsafeFromArray(page), Option.some(last.position)] as const
    })
  )

/** Reads pages after `from` until a page comes back empty: the log as far as it goes. */
export const readToEnd = <E>(
  from: number,
  readPage: (after: number) => Effect.Effect<ReadonlyArray<RecordedEvent>, E>
): Stream.Stream<RecordedEvent, E> =>
  Stream.paginateChunkEffect(from, (after) =>
    Effect.map(readPage(after), (page) => {
      const last = page.at(-1)
      return [
        Chunk.unsafeFromArray(page),
        last === undefined ? Option.none<number>() : Option.some(last.position)
      ] as const
    })
  )
