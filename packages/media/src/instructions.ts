import type { SpaceId, UserId } from "@spaces/domain"
import { Data } from "effect"

/**
 * Orders to the media plane, mapped by the composition root from domain events. They are
 * idempotent: applying one twice, or to a room that is not open, changes nothing more.
 */
export type MediaInstruction = Data.TaggedEnum<{
  /** The Space went live: open its room (a router on the least-loaded worker). */
  SpaceStarted: { readonly spaceId: SpaceId; readonly recording: boolean }
  /** A mute by the speaker, a host or co-host, or mute-all: pause the speaker's producer. */
  SpeakerMuted: { readonly spaceId: SpaceId; readonly userId: UserId }
  /** Only the speaker unmutes: resume the producer. */
  SpeakerUnmuted: { readonly spaceId: SpaceId; readonly userId: UserId }
  /** Step-down, co-host/speaker demotion: close the producer and the send transport. */
  SpeakerRevoked: { readonly spaceId: SpaceId; readonly userId: UserId }
  /** The user left the Space: close all their transports. */
  ParticipantLeft: { readonly spaceId: SpaceId; readonly userId: UserId }
  /** The user was removed (banned): close all their transports. */
  ParticipantRemoved: { readonly spaceId: SpaceId; readonly userId: UserId }
  /** Close the router and everything in it. */
  SpaceEnded: { readonly spaceId: SpaceId }
  /** The host turned recording on or off. */
  RecordingChanged: { readonly spaceId: SpaceId; readonly recording: boolean }
}>

export const MediaInstruction = Data.taggedEnum<MediaInstruction>()
