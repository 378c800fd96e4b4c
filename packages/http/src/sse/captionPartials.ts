import { SpaceId, UserId } from "@spaces/domain"
import type { PartialCaption } from "@spaces/media"
import { Schema } from "effect"
import type { EphemeralBusShape } from "../cluster/EphemeralBus.js"
import { type Broadcast, makeBroadcast } from "../cluster/broadcast.js"

const PartialCaptionSchema = Schema.Struct({
  spaceId: SpaceId,
  speaker: UserId,
  text: Schema.String.pipe(Schema.maxLength(4_000)),
  startMs: Schema.Number
})

/** Partial captions: broadcast to the room's live connections on every node while a phrase is spoken, never stored. */
export type CaptionPartials = Broadcast<PartialCaption>

/** Sliding: a newer hypothesis supersedes an older one; a slow reader never holds up the transcriber. */
export const makeCaptionPartials = (bus: EphemeralBusShape) =>
  makeBroadcast<PartialCaption, typeof PartialCaptionSchema.Encoded>(
    bus,
    "captions",
    PartialCaptionSchema,
    1024
  )
