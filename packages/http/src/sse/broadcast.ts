import { Effect, PubSub, type Queue, type Scope } from "effect"

/**
 * Something the rooms' live connections receive and nobody stores (reactions, partial captions).
 * Sliding: a burst drops the oldest, so a slow reader never holds up a sender.
 */
export interface Broadcast<T> {
  readonly publish: (item: T) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Queue.Dequeue<T>, never, Scope.Scope>
}

export const makeBroadcast = <T>(capacity: number) =>
  Effect.map(
    Effect.acquireRelease(PubSub.sliding<T>(capacity), PubSub.shutdown),
    (pubsub): Broadcast<T> => ({
      publish: (item) => Effect.asVoid(PubSub.publish(pubsub, item)),
      subscribe: PubSub.subscribe(pubsub)
    })
  )
