import type { PartialCaption } from "@spaces/media"
import { type Broadcast, makeBroadcast } from "./broadcast.js"

/** Partial captions: broadcast to the room's live connections while a phrase is spoken, never stored. */
export type CaptionPartials = Broadcast<PartialCaption>

/** A newer hypothesis supersedes an older one: a slow reader never holds up the transcriber. */
export const makeCaptionPartials = makeBroadcast<PartialCaption>(1024)
