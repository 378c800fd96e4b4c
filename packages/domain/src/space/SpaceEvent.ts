import { Schema } from "effect"
import { CaptionSegment, PostId, ServiceId, SpaceId, SpeakPolicy, Timestamp, UserId } from "./SpaceValues.js"
import { TopicSlug } from "../rules/RoomRules.js"

const at = { spaceId: SpaceId, at: Timestamp }
const onUser = { ...at, user: UserId }
const byUser = { ...onUser, by: UserId }

export const SpaceCreated = Schema.TaggedStruct("SpaceCreated", {
  ...at,
  host: UserId,
  title: Schema.String,
  topics: Schema.Array(TopicSlug),
  speakPolicy: SpeakPolicy,
  recording: Schema.Boolean,
  captions: Schema.Boolean,
  scheduledFor: Schema.NullOr(Timestamp)
})
export const SpaceRescheduled = Schema.TaggedStruct("SpaceRescheduled", { ...at, scheduledFor: Timestamp })
export const SpaceCancelled = Schema.TaggedStruct("SpaceCancelled", at)
export const SpaceExpired = Schema.TaggedStruct("SpaceExpired", at)
/** The Space goes live; its host is in the room (muted, like every new speaker). */
export const SpaceStarted = Schema.TaggedStruct("SpaceStarted", { ...at, host: UserId })
export const SpaceEdited = Schema.TaggedStruct("SpaceEdited", {
  ...at,
  by: UserId,
  title: Schema.String,
  topics: Schema.Array(TopicSlug)
})
export const SpeakPolicyChanged = Schema.TaggedStruct("SpeakPolicyChanged", {
  ...at,
  by: UserId,
  speakPolicy: SpeakPolicy
})
export const RecordingChanged = Schema.TaggedStruct("RecordingChanged", {
  ...at,
  by: UserId,
  recording: Schema.Boolean
})
export const CaptionsChanged = Schema.TaggedStruct("CaptionsChanged", {
  ...at,
  by: UserId,
  captions: Schema.Boolean
})
export const ReminderSet = Schema.TaggedStruct("ReminderSet", onUser)
export const ReminderRemoved = Schema.TaggedStruct("ReminderRemoved", onUser)
export const SpaceEnded = Schema.TaggedStruct("SpaceEnded", {
  ...at,
  reason: Schema.Literal("host", "host_absent", "operator"),
  by: Schema.String,
  /** The operator's words, when an operator ended it (absent in older logs and other ends). */
  note: Schema.optional(Schema.String)
})

/**
 * Why a participant left: `left` they walked out (`LeaveSpace`); `disconnected` the system left them
 * on their behalf after all their connections were gone for the disconnect grace. Events written
 * before reasons existed decode as `left`.
 */
export const LeaveReason = Schema.Literal("left", "disconnected")
export type LeaveReason = typeof LeaveReason.Type
const leaveReason = { reason: Schema.optionalWith(LeaveReason, { default: () => "left" as const }) }

export const ListenerJoined = Schema.TaggedStruct("ListenerJoined", onUser)
export const ParticipantLeft = Schema.TaggedStruct("ParticipantLeft", { ...onUser, ...leaveReason })
/** The host left: the Space carries on until `graceEndsAt` unless the host returns. */
export const HostLeft = Schema.TaggedStruct("HostLeft", { ...onUser, graceEndsAt: Timestamp, ...leaveReason })
export const HostReturned = Schema.TaggedStruct("HostReturned", onUser)

export const HandRaised = Schema.TaggedStruct("HandRaised", onUser)
export const HandLowered = Schema.TaggedStruct("HandLowered", onUser)
export const SpeakRequestApproved = Schema.TaggedStruct("SpeakRequestApproved", byUser)
export const SpeakRequestDeclined = Schema.TaggedStruct("SpeakRequestDeclined", byUser)
export const SpeakerInvited = Schema.TaggedStruct("SpeakerInvited", byUser)
export const SpeakerInviteAccepted = Schema.TaggedStruct("SpeakerInviteAccepted", onUser)
export const SpeakerInviteDeclined = Schema.TaggedStruct("SpeakerInviteDeclined", onUser)
export const CoHostInvited = Schema.TaggedStruct("CoHostInvited", byUser)
export const CoHostInviteAccepted = Schema.TaggedStruct("CoHostInviteAccepted", onUser)
export const CoHostInviteDeclined = Schema.TaggedStruct("CoHostInviteDeclined", onUser)
export const CoHostRemoved = Schema.TaggedStruct("CoHostRemoved", byUser)
export const SteppedDown = Schema.TaggedStruct("SteppedDown", onUser)

export const SpeakerMuted = Schema.TaggedStruct("SpeakerMuted", byUser)
export const SpeakerUnmuted = Schema.TaggedStruct("SpeakerUnmuted", onUser)
export const AllSpeakersMuted = Schema.TaggedStruct("AllSpeakersMuted", { ...at, by: UserId })
/** Removal is a ban from this Space: the user can't rejoin, request or be invited. */
export const ParticipantRemoved = Schema.TaggedStruct("ParticipantRemoved", byUser)

export const PostPublished = Schema.TaggedStruct("PostPublished", {
  ...at,
  postId: PostId,
  author: UserId,
  text: Schema.String
})
export const PostPinned = Schema.TaggedStruct("PostPinned", { ...at, postId: PostId, by: UserId })
export const PostUnpinned = Schema.TaggedStruct("PostUnpinned", { ...at, by: UserId })
export const CaptionAppended = Schema.TaggedStruct("CaptionAppended", {
  ...at,
  service: ServiceId,
  segment: CaptionSegment
})

export const SpaceEvent = Schema.Union(
  SpaceCreated,
  SpaceRescheduled,
  SpaceCancelled,
  SpaceExpired,
  SpaceStarted,
  SpaceEdited,
  SpeakPolicyChanged,
  RecordingChanged,
  CaptionsChanged,
  ReminderSet,
  ReminderRemoved,
  SpaceEnded,
  ListenerJoined,
  ParticipantLeft,
  HostLeft,
  HostReturned,
  HandRaised,
  HandLowered,
  SpeakRequestApproved,
  SpeakRequestDeclined,
  SpeakerInvited,
  SpeakerInviteAccepted,
  SpeakerInviteDeclined,
  CoHostInvited,
  CoHostInviteAccepted,
  CoHostInviteDeclined,
  CoHostRemoved,
  SteppedDown,
  SpeakerMuted,
  SpeakerUnmuted,
  AllSpeakersMuted,
  ParticipantRemoved,
  PostPublished,
  PostPinned,
  PostUnpinned,
  CaptionAppended
)
export type SpaceEvent = typeof SpaceEvent.Type
export type SpaceEventTag = SpaceEvent["_tag"]
export type SpaceEventOf<T extends SpaceEventTag> = Extract<SpaceEvent, { readonly _tag: T }>

/**
 * One entry for every Space event type. A table that must decide about each event (does the media
 * plane act on it? does this view read it?) has this type, so a new event fails the typecheck in
 * each such table until it is given its entry, and nowhere else.
 */
export type SpaceEventTable<V> = { readonly [T in SpaceEventTag]: V }

/** The event types whose entry in `table` passes `keep`. */
export const spaceEventsWhere = <V>(
  table: SpaceEventTable<V>,
  keep: (entry: V) => boolean
): ReadonlySet<SpaceEventTag> =>
  // The table's keys are exactly the tags (its type says so).
  new Set((Object.keys(table) as Array<SpaceEventTag>).filter((tag) => keep(table[tag])))

/** The event types a yes/no table says yes to. */
export const spaceEventsIn = (table: SpaceEventTable<boolean>): ReadonlySet<SpaceEventTag> =>
  spaceEventsWhere(table, (yes) => yes)
