import { SpaceId, UserId } from "@spaces/domain"
import { Schema } from "effect"
import type { EphemeralBusShape } from "../cluster/EphemeralBus.js"
import { type Broadcast, makeBroadcast } from "../cluster/broadcast.js"

/** An emoji reaction: broadcast to the room's live connections on every node, never stored (SPEC §1). */
export const Reaction = Schema.Struct({
  spaceId: SpaceId,
  user: UserId,
  emoji: Schema.String.pipe(Schema.maxLength(64)),
  at: Schema.Number
})
export type Reaction = typeof Reaction.Type

export type Reactions = Broadcast<Reaction>

/** Sliding: reactions are lossy by nature; a burst drops the oldest, never blocks a sender. */
export const makeReactions = (bus: EphemeralBusShape) => makeBroadcast(bus, "reactions", Reaction, 4096)
