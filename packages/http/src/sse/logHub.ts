import { EventStore, type RecordedEvent } from "@spaces/domain"
import { Effect, PubSub, type Queue, Schedule, type Scope, Stream } from "effect"

/**
 * One subscription to the global log per server, shared by every live connection and by the media
 * glue: subscribers get each event committed after they subscribed.
 */
export interface LogHub {
  readonly subscribe: Effect.Effect<Queue.Dequeue<RecordedEvent>, never, Scope.Scope>
  /** The last global position the hub has seen. */
  readonly head: () => number
}

export const makeLogHub = (from: number): Effect.Effect<LogHub, never, EventStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<RecordedEvent>(), PubSub.shutdown)
    let head = from
    // Resume after the last event seen if the subscription fails (the store was briefly unreachable).
    const follow = Effect.suspend(() =>
      store.subscribeAll(head).pipe(
        Stream.runForEach((event) =>
          Effect.suspend(() => {
            head = event.position
            return PubSub.publish(pubsub, event)
          })
        )
      )
    )
    yield* follow.pipe(
      Effect.tapError((error) => Effect.logWarning("log hub subscription failed; resubscribing", error)),
      Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("5 seconds")))),
      Effect.forkScoped
    )
    return { subscribe: PubSub.subscribe(pubsub), head: () => head }
  })
