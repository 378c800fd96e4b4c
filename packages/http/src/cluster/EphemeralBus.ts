import { Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"

/**
 * The ephemeral plane between the server nodes: messages that are never stored (reactions,
 * speaking indicators, partial captions, presence changes) published by one node and received by
 * every other one. Delivery is at most once and lossy by design; what must not be lost goes through
 * the log. A node never receives its own messages back: local delivery is the publisher's business
 * (see `broadcast.ts`), so one node with no broker works exactly as before.
 */
export interface EphemeralBusShape {
  /** This node's id (unique per process start). */
  readonly node: string
  /** Sends `payload` (JSON-encodable) on `topic` to the other nodes; drops it when the broker is down. */
  readonly publish: (topic: string, payload: unknown) => Effect.Effect<void>
  /** The payloads the other nodes publish on `topic` from now on (undecoded: decode at the edge). */
  readonly subscribe: (topic: string) => Effect.Effect<Queue.Dequeue<unknown>, never, Scope.Scope>
}

export class EphemeralBus extends Context.Tag("@spaces/http/EphemeralBus")<
  EphemeralBus,
  EphemeralBusShape
>() {}

/** One process alone: there is nobody to tell, and nobody ever tells it anything. */
export const makeInProcessBus = (node: string) =>
  Effect.map(
    Effect.acquireRelease(PubSub.unbounded<unknown>(), PubSub.shutdown),
    (silence): EphemeralBusShape => ({
      node,
      publish: () => Effect.void,
      subscribe: () => PubSub.subscribe(silence)
    })
  )

export const InProcessBus = (node: string) => Layer.scoped(EphemeralBus, makeInProcessBus(node))
