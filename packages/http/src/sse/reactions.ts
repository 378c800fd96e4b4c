import type { SpaceId, UserId } from "@spaces/domain"
import { type Broadcast, makeBroadcast } from "./broadcast.js"

/** An emoji reaction: broadcast to the room's live connections, never stored (SPEC §1). */
export interface Reaction {
  readonly spaceId: SpaceId
  readonly user: UserId
  readonly emoji: string
  readonly at: number
}

export type Reactions = Broadcast<Reaction>

/** Reactions are lossy by nature: a burst drops the oldest, never blocks a sender. */
export const makeReactions = makeBroadcast<Reaction>(4096)
