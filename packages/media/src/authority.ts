import type { SpaceId, UserId } from "@spaces/domain"
import { Context, type Effect } from "effect"

/** What the domain's current state allows a user in a Space, as the media plane needs it. */
export interface MediaPermission {
  /** A participant who is not removed: may receive the room's audio. */
  readonly mayListen: boolean
  /** Host, co-host or speaker, not removed: may publish one audio track. */
  readonly mayProduce: boolean
  /** The speaker is muted: a new producer starts paused. */
  readonly muted: boolean
}

/**
 * The port through which the media plane asks the domain who may do what; it never decides
 * itself. Implemented by the composition root from the Space's own folded state (`Spaces.space`),
 * not from a read model that may lag.
 */
export class SpeakerAuthority extends Context.Tag("@spaces/media/SpeakerAuthority")<
  SpeakerAuthority,
  { readonly permission: (spaceId: SpaceId, userId: UserId) => Effect.Effect<MediaPermission> }
>() {}
