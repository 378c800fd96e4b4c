import type { PartialCaption } from "@spaces/media"
import { Effect, PubSub, type Queue, type Scope } from "effect"

/** Partial captions: broadcast to the room's live connections while a phrase is spoken, never stored. */
export interface CaptionPartials {
  readonly publish: (caption: PartialCaption) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Queue.Dequeue<PartialCaption>, never, Scope.Scope>
}

export const makeCaptionPartials = Effect.map(
  // Sliding: a newer hypothesis supersedes an older one; a slow reader never holds up the transcriber.
  Effect.acquireRelease(PubSub.sliding<PartialCaption>(1024), PubSub.shutdown),
  (pubsub): CaptionPartials => ({
    publish: (caption) => Effect.asVoid(PubSub.publish(pubsub, caption)),
    subscribe: PubSub.subscribe(pubsub)
  })
)
