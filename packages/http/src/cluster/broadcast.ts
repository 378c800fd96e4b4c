import { Effect, PubSub, type Queue as Q, Schema, type Scope } from "effect"
import { relayRemote } from "./brokerCalls.js"
import type { EphemeralBusShape } from "./EphemeralBus.js"

/** Ephemeral messages of one kind, delivered to this node's subscribers and to every other node's. */
export interface Broadcast<A> {
  readonly publish: (message: A) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Q.Dequeue<A>, never, Scope.Scope>
}

/**
 * A sliding PubSub for this node's subscribers (a burst drops the oldest, never blocks a sender),
 * fed by local publishes and by the other nodes' messages on `topic`, decoded with `schema` (a
 * malformed message from the broker is dropped: the broker is a boundary like any other).
 */
export const makeBroadcast = <A, I>(
  bus: EphemeralBusShape,
  topic: string,
  schema: Schema.Schema<A, I>,
  capacity: number
): Effect.Effect<Broadcast<A>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const local = yield* Effect.acquireRelease(PubSub.sliding<A>(capacity), PubSub.shutdown)
    const encode = Schema.encodeSync(schema)
    yield* relayRemote(bus, topic, schema, local)
    return {
      publish: (message) =>
        Effect.zipRight(PubSub.publish(local, message), bus.publish(topic, encode(message))),
      subscribe: PubSub.subscribe(local)
    }
  })
