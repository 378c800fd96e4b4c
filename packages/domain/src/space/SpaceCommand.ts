import { Schema } from "effect"
import {
  CaptionSegment,
  PostId,
  PostText,
  ServiceId,
  SpaceId,
  SpeakPolicy,
  Timestamp,
  Title,
  Topics,
  UserId
} from "./SpaceValues.js"

const byUser = { spaceId: SpaceId, by: UserId }
const onUser = { ...byUser, user: UserId }

// Lifecycle
export const CreateSpace = Schema.TaggedStruct("CreateSpace", {
  ...byUser,
  title: Title,
  topics: Topics,
  speakPolicy: SpeakPolicy,
  recording: Schema.Boolean,
  captions: Schema.Boolean,
  /** Absent: start now. */
  scheduledFor: Schema.optional(Timestamp)
})
export const RescheduleSpace = Schema.TaggedStruct("RescheduleSpace", { ...byUser, scheduledFor: Timestamp })
export const CancelSpace = Schema.TaggedStruct("CancelSpace", byUser)
export const StartSpace = Schema.TaggedStruct("StartSpace", byUser)
export const EditSpace = Schema.TaggedStruct("EditSpace", {
  ...byUser,
  title: Schema.optional(Title),
  topics: Schema.optional(Topics)
})
export const ChangeSpeakPolicy = Schema.TaggedStruct("ChangeSpeakPolicy", {
  ...byUser,
  speakPolicy: SpeakPolicy
})
export const SetRecording = Schema.TaggedStruct("SetRecording", { ...byUser, recording: Schema.Boolean })
export const SetCaptions = Schema.TaggedStruct("SetCaptions", { ...byUser, captions: Schema.Boolean })
export const SetReminder = Schema.TaggedStruct("SetReminder", byUser)
export const RemoveReminder = Schema.TaggedStruct("RemoveReminder", byUser)
export const EndSpace = Schema.TaggedStruct("EndSpace", byUser)

// Presence
export const JoinSpace = Schema.TaggedStruct("JoinSpace", byUser)
export const LeaveSpace = Schema.TaggedStruct("LeaveSpace", byUser)

// Speaking
export const RaiseHand = Schema.TaggedStruct("RaiseHand", byUser)
export const LowerHand = Schema.TaggedStruct("LowerHand", byUser)
export const ApproveSpeakRequest = Schema.TaggedStruct("ApproveSpeakRequest", onUser)
export const DeclineSpeakRequest = Schema.TaggedStruct("DeclineSpeakRequest", onUser)
export const InviteSpeaker = Schema.TaggedStruct("InviteSpeaker", onUser)
export const AcceptSpeakerInvite = Schema.TaggedStruct("AcceptSpeakerInvite", byUser)
export const DeclineSpeakerInvite = Schema.TaggedStruct("DeclineSpeakerInvite", byUser)
export const InviteCoHost = Schema.TaggedStruct("InviteCoHost", onUser)
export const AcceptCoHostInvite = Schema.TaggedStruct("AcceptCoHostInvite", byUser)
export const DeclineCoHostInvite = Schema.TaggedStruct("DeclineCoHostInvite", byUser)
export const RemoveCoHost = Schema.TaggedStruct("RemoveCoHost", onUser)
export const StepDown = Schema.TaggedStruct("StepDown", byUser)

// Moderation
export const MuteSpeaker = Schema.TaggedStruct("MuteSpeaker", onUser)
export const UnmuteSpeaker = Schema.TaggedStruct("UnmuteSpeaker", onUser)
export const MuteAll = Schema.TaggedStruct("MuteAll", byUser)
export const RemoveParticipant = Schema.TaggedStruct("RemoveParticipant", onUser)

// Around the conversation
export const PublishPost = Schema.TaggedStruct("PublishPost", { ...byUser, postId: PostId, text: PostText })
export const PinPost = Schema.TaggedStruct("PinPost", { ...byUser, postId: PostId })
export const UnpinPost = Schema.TaggedStruct("UnpinPost", byUser)
export const AppendCaption = Schema.TaggedStruct("AppendCaption", {
  spaceId: SpaceId,
  service: ServiceId,
  segment: CaptionSegment
})

// System commands: issued by the scheduler from the clock, or by an operator, never by a user.
export const ExpireSpace = Schema.TaggedStruct("ExpireSpace", { spaceId: SpaceId })
export const EndAbandonedSpace = Schema.TaggedStruct("EndAbandonedSpace", { spaceId: SpaceId })
/**
 * Presence: every connection of `user` to the live Space has been gone for the disconnect grace,
 * so the system leaves them on their behalf (a no-op when they are no longer in the room).
 */
export const DisconnectParticipant = Schema.TaggedStruct("DisconnectParticipant", {
  spaceId: SpaceId,
  user: UserId
})
export const EndSpaceByOperator = Schema.TaggedStruct("EndSpaceByOperator", {
  spaceId: SpaceId,
  operator: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128)),
  reason: Schema.String.pipe(Schema.maxLength(500))
})

export const SpaceCommand = Schema.Union(
  CreateSpace,
  RescheduleSpace,
  CancelSpace,
  StartSpace,
  EditSpace,
  ChangeSpeakPolicy,
  SetRecording,
  SetCaptions,
  SetReminder,
  RemoveReminder,
  EndSpace,
  JoinSpace,
  LeaveSpace,
  RaiseHand,
  LowerHand,
  ApproveSpeakRequest,
  DeclineSpeakRequest,
  InviteSpeaker,
  AcceptSpeakerInvite,
  DeclineSpeakerInvite,
  InviteCoHost,
  AcceptCoHostInvite,
  DeclineCoHostInvite,
  RemoveCoHost,
  StepDown,
  MuteSpeaker,
  UnmuteSpeaker,
  MuteAll,
  RemoveParticipant,
  PublishPost,
  PinPost,
  UnpinPost,
  AppendCaption,
  ExpireSpace,
  EndAbandonedSpace,
  DisconnectParticipant,
  EndSpaceByOperator
)
export type SpaceCommand = typeof SpaceCommand.Type
export type SpaceCommandTag = SpaceCommand["_tag"]
export type SpaceCommandOf<T extends SpaceCommandTag> = Extract<SpaceCommand, { readonly _tag: T }>

/** The user a command acts for, if any (system and service commands have none). */
export const actorOf = (command: SpaceCommand): UserId | undefined =>
  "by" in command ? command.by : undefined
