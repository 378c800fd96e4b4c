import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, PubSub, type Queue, type Scope } from "effect"

/** An emoji reaction: broadcast to the room's live connections, never stored (SPEC §1). */
export interface Reaction {
  readonly spaceId: SpaceId
  readonly user: UserId
  readonly emoji: string
  readonly at: number
}

export interface Reactions {
  readonly publish: (reaction: Reaction) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Queue.Dequeue<Reaction>, never, Scope.Scope>
}

export const makeReactions = Effect.map(
  // Sliding: reactions are lossy by nature; a burst drops the oldest, never blocks a sender.
  Effect.acquireRelease(PubSub.sliding<Reaction>(4096), PubSub.shutdown),
  (pubsub): Reactions => ({
    publish: (reaction) => Effect.asVoid(PubSub.publish(pubsub, reaction)),
    subscribe: PubSub.subscribe(pubsub)
  })
)
