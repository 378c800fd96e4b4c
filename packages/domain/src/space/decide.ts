import { Effect, HashSet } from "effect"
import type { RoomRules } from "../rules/RoomRules.js"
import type { SpaceCommand, SpaceCommandOf } from "./SpaceCommand.js"
import {
  AlreadySpeaking,
  BannedFromSpace,
  CannotTargetHost,
  CaptionsOff,
  CoHostLimitReached,
  ListenerLimitReached,
  NoPendingRequest,
  NotACoHost,
  NotASpeaker,
  NotDueYet,
  NotInSpace,
  NotPermitted,
  OnlySpeakerCanUnmute,
  PostAlreadyExists,
  PostNotFound,
  ScheduledSpaceExpired,
  SpaceAlreadyExists,
  type SpaceError,
  SpaceHasEnded,
  SpaceNotFound,
  SpeakerLimitReached,
  SpeakRequestsNotAllowed,
  type Standing,
  WrongSpaceStatus
} from "./SpaceError.js"
import type { LeaveReason, SpaceEvent } from "./SpaceEvent.js"
import {
  isModeratorRole,
  isSpeakingRole,
  type Participant,
  participantOf,
  type SpaceState
} from "./SpaceState.js"
import type { SpaceId, UserId } from "./SpaceValues.js"
import { validCaption, validPostText, validSchedule, validTitle, validTopics } from "./validation.js"

/** What a decision may look at besides the Space's own state. */
export interface SpaceContext {
  readonly now: number
  readonly rules: RoomRules
  /** Does the host follow `user`? (The `followed` speak policy.) */
  readonly hostFollows: (user: UserId) => boolean
}

type Decision = Effect.Effect<ReadonlyArray<SpaceEvent>, SpaceError>

export const standingOf = (state: SpaceState, user: UserId): Standing => {
  if (HashSet.has(state.banned, user)) return "removed"
  if (user === state.host) return "host"
  return participantOf(state, user)?.role ?? "outsider"
}

/** The Space must exist and not have ended. */
const existing = (state: SpaceState, spaceId: SpaceId): Effect.Effect<SpaceState, SpaceError> => {
  if (state.status === "none") return Effect.fail(new SpaceNotFound({ spaceId }))
  if (state.status === "ended")
    return Effect.fail(new SpaceHasEnded({ spaceId, reason: state.endReason ?? "host" }))
  return Effect.succeed(state)
}

const inStatus =
  (required: "scheduled" | "live" | "scheduled or live") =>
  (state: SpaceState, spaceId: SpaceId): Effect.Effect<SpaceState, SpaceError> =>
    Effect.flatMap(existing(state, spaceId), (s) =>
      required === "scheduled or live" || s.status === required
        ? Effect.succeed(s)
        : Effect.fail(new WrongSpaceStatus({ spaceId, status: s.status, required }))
    )
const live = inStatus("live")
const scheduled = inStatus("scheduled")
const upcomingOrLive = inStatus("scheduled or live")

const onlyHost = (state: SpaceState, user: UserId, action: string, rule: string) =>
  user === state.host
    ? Effect.void
    : Effect.fail(new NotPermitted({ action, standing: standingOf(state, user), rule }))

/** Host or co-host: co-hosts can do everything the host can except end, co-hosts and recording. */
const moderator = (state: SpaceState, user: UserId, action: string) =>
  user === state.host || isModeratorRole(participantOf(state, user)?.role)
    ? Effect.void
    : Effect.fail(
        new NotPermitted({
          action,
          standing: standingOf(state, user),
          rule: "only the host and co-hosts can do this"
        })
      )

// Errors name the command's Space id, never the state's: a decision must hold for any state.
const notBanned = (state: SpaceState, spaceId: SpaceId, user: UserId) =>
  HashSet.has(state.banned, user) ? Effect.fail(new BannedFromSpace({ spaceId, user })) : Effect.void

const present = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId
): Effect.Effect<Participant, SpaceError> => {
  const participant = participantOf(state, user)
  return participant === undefined
    ? Effect.fail(new NotInSpace({ spaceId, user }))
    : Effect.succeed(participant)
}

const speaking = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId
): Effect.Effect<Participant, SpaceError> =>
  Effect.flatMap(present(state, spaceId, user), (p) =>
    isSpeakingRole(p.role) ? Effect.succeed(p) : Effect.fail(new NotASpeaker({ user, role: p.role }))
  )

/** Room for one more speaker (host and co-hosts count). */
const speakerSeat = (state: SpaceState, rules: RoomRules) =>
  state.counts.speakers >= rules.maxSpeakers
    ? Effect.fail(new SpeakerLimitReached({ limit: rules.maxSpeakers }))
    : Effect.void

const listenerSeat = (state: SpaceState, rules: RoomRules) =>
  rules.maxListeners !== null && state.counts.listeners >= rules.maxListeners
    ? Effect.fail(new ListenerLimitReached({ limit: rules.maxListeners }))
    : Effect.void

/** Accepting an invitation joins the room first when the invitee is not in it yet. */
const joiningIfNeeded = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId,
  at: number
): ReadonlyArray<SpaceEvent> =>
  participantOf(state, user) === undefined ? [{ _tag: "ListenerJoined", spaceId, user, at }] : []

/** A present participant leaves; the host's leave starts the grace period (SPEC: Leave). */
const leaving = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId,
  reason: LeaveReason,
  { now, rules }: SpaceContext
): ReadonlyArray<SpaceEvent> =>
  user === state.host
    ? [{ _tag: "HostLeft", spaceId, at: now, user, graceEndsAt: now + rules.hostGraceMs, reason }]
    : [{ _tag: "ParticipantLeft", spaceId, at: now, user, reason }]

const handlers: {
  readonly [T in SpaceCommand["_tag"]]: (
    command: SpaceCommandOf<T>,
    state: SpaceState,
    ctx: SpaceContext
  ) => Decision
} = {
  CreateSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      if (state.status !== "none") return yield* Effect.fail(new SpaceAlreadyExists({ spaceId: c.spaceId }))
      const title = yield* validTitle(c.title, rules)
      const topics = yield* validTopics(c.topics, rules)
      const scheduledFor =
        c.scheduledFor === undefined ? null : yield* validSchedule(c.scheduledFor, now, rules)
      const created: SpaceEvent = {
        _tag: "SpaceCreated",
        spaceId: c.spaceId,
        at: now,
        host: c.by,
        title,
        topics,
        speakPolicy: c.speakPolicy,
        recording: c.recording,
        captions: c.captions,
        scheduledFor
      }
      return scheduledFor === null
        ? [created, { _tag: "SpaceStarted", spaceId: c.spaceId, at: now, host: c.by }]
        : [created]
    }),

  RescheduleSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "reschedule", "only the host can reschedule a Space")
      const scheduledFor = yield* validSchedule(c.scheduledFor, now, rules)
      return [{ _tag: "SpaceRescheduled", spaceId: c.spaceId, at: now, scheduledFor }]
    }),

  CancelSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "cancel", "only the host can cancel a scheduled Space")
      return [{ _tag: "SpaceCancelled", spaceId: c.spaceId, at: now }]
    }),

  // Early starts are fine; a start past the expiry deadline never reaches here (see `overdue`).
  StartSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "start", "only the host can start a scheduled Space")
      return [{ _tag: "SpaceStarted", spaceId: c.spaceId, at: now, host: c.by }]
    }),

  EditSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "edit")
      const title = c.title === undefined ? state.title : yield* validTitle(c.title, rules)
      const topics = c.topics === undefined ? state.topics : yield* validTopics(c.topics, rules)
      const unchanged = title === state.title && topics.join() === state.topics.join()
      return unchanged ? [] : [{ _tag: "SpaceEdited", spaceId: c.spaceId, at: now, by: c.by, title, topics }]
    }),

  ChangeSpeakPolicy: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "change who may request to speak")
      return c.speakPolicy === state.speakPolicy
        ? []
        : [{ _tag: "SpeakPolicyChanged", spaceId: c.spaceId, at: now, by: c.by, speakPolicy: c.speakPolicy }]
    }),

  SetRecording: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* onlyHost(state, c.by, "change recording", "only the host can change recording")
      return c.recording === state.recording
        ? []
        : [{ _tag: "RecordingChanged", spaceId: c.spaceId, at: now, by: c.by, recording: c.recording }]
    }),

  SetCaptions: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "change captions")
      return c.captions === state.captions
        ? []
        : [{ _tag: "CaptionsChanged", spaceId: c.spaceId, at: now, by: c.by, captions: c.captions }]
    }),

  SetReminder: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      return HashSet.has(state.reminders, c.by)
        ? []
        : [{ _tag: "ReminderSet", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  RemoveReminder: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      return HashSet.has(state.reminders, c.by)
        ? [{ _tag: "ReminderRemoved", spaceId: c.spaceId, at: now, user: c.by }]
        : []
    }),

  EndSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* onlyHost(state, c.by, "end", "only the host can end a Space")
      return [{ _tag: "SpaceEnded", spaceId: c.spaceId, at: now, reason: "host", by: c.by }]
    }),

  JoinSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      if (participantOf(state, c.by) !== undefined) return []
      if (c.by === state.host) return [{ _tag: "HostReturned", spaceId: c.spaceId, at: now, user: c.by }]
      yield* listenerSeat(state, rules)
      return [{ _tag: "ListenerJoined", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  LeaveSpace: (c, state, ctx) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* present(state, c.spaceId, c.by)
      return leaving(state, c.spaceId, c.by, "left", ctx)
    }),

  RaiseHand: (c, state, { now, hostFollows }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      const participant = yield* present(state, c.spaceId, c.by)
      if (participant.role !== "listener")
        return yield* Effect.fail(new AlreadySpeaking({ user: c.by, role: participant.role }))
      if (state.speakPolicy === "invited" || (state.speakPolicy === "followed" && !hostFollows(c.by)))
        return yield* Effect.fail(new SpeakRequestsNotAllowed({ policy: state.speakPolicy, user: c.by }))
      return state.raisedHands.includes(c.by)
        ? []
        : [{ _tag: "HandRaised", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  LowerHand: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (!state.raisedHands.includes(c.by))
        return yield* Effect.fail(new NoPendingRequest({ user: c.by, what: "speak request" }))
      return [{ _tag: "HandLowered", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  ApproveSpeakRequest: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* moderator(state, c.by, "approve a request to speak")
      if (!state.raisedHands.includes(c.user))
        return yield* Effect.fail(new NoPendingRequest({ user: c.user, what: "speak request" }))
      // On a full stage the request stays pending, to be approved when a seat frees up.
      yield* speakerSeat(state, rules)
      return [{ _tag: "SpeakRequestApproved", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  DeclineSpeakRequest: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* moderator(state, c.by, "decline a request to speak")
      if (!state.raisedHands.includes(c.user))
        return yield* Effect.fail(new NoPendingRequest({ user: c.user, what: "speak request" }))
      return [{ _tag: "SpeakRequestDeclined", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  InviteSpeaker: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* moderator(state, c.by, "invite a speaker")
      yield* notBanned(state, c.spaceId, c.user)
      const role = participantOf(state, c.user)?.role
      if (c.user === state.host || isSpeakingRole(role))
        return yield* Effect.fail(new AlreadySpeaking({ user: c.user, role: role ?? "host" }))
      return HashSet.has(state.speakerInvites, c.user)
        ? []
        : [{ _tag: "SpeakerInvited", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  AcceptSpeakerInvite: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      if (!HashSet.has(state.speakerInvites, c.by))
        return yield* Effect.fail(new NoPendingRequest({ user: c.by, what: "speaker invitation" }))
      yield* speakerSeat(state, rules)
      return [
        ...joiningIfNeeded(state, c.spaceId, c.by, now),
        { _tag: "SpeakerInviteAccepted", spaceId: c.spaceId, at: now, user: c.by }
      ]
    }),

  DeclineSpeakerInvite: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (!HashSet.has(state.speakerInvites, c.by))
        return yield* Effect.fail(new NoPendingRequest({ user: c.by, what: "speaker invitation" }))
      return [{ _tag: "SpeakerInviteDeclined", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  InviteCoHost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* onlyHost(state, c.by, "invite a co-host", "only the host invites co-hosts")
      if (c.user === state.host)
        return yield* Effect.fail(new CannotTargetHost({ action: "invite a co-host" }))
      yield* notBanned(state, c.spaceId, c.user)
      if (participantOf(state, c.user)?.role === "cohost")
        return yield* Effect.fail(new AlreadySpeaking({ user: c.user, role: "cohost" }))
      return HashSet.has(state.coHostInvites, c.user)
        ? []
        : [{ _tag: "CoHostInvited", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  AcceptCoHostInvite: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      if (!HashSet.has(state.coHostInvites, c.by))
        return yield* Effect.fail(new NoPendingRequest({ user: c.by, what: "co-host invitation" }))
      if (state.counts.cohosts >= rules.maxCoHosts)
        return yield* Effect.fail(new CoHostLimitReached({ limit: rules.maxCoHosts }))
      if (!isSpeakingRole(participantOf(state, c.by)?.role)) yield* speakerSeat(state, rules)
      return [
        ...joiningIfNeeded(state, c.spaceId, c.by, now),
        { _tag: "CoHostInviteAccepted", spaceId: c.spaceId, at: now, user: c.by }
      ]
    }),

  DeclineCoHostInvite: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (!HashSet.has(state.coHostInvites, c.by))
        return yield* Effect.fail(new NoPendingRequest({ user: c.by, what: "co-host invitation" }))
      return [{ _tag: "CoHostInviteDeclined", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  RemoveCoHost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* onlyHost(state, c.by, "remove a co-host", "only the host changes co-hosts")
      if (participantOf(state, c.user)?.role !== "cohost")
        return yield* Effect.fail(new NotACoHost({ user: c.user }))
      return [{ _tag: "CoHostRemoved", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  StepDown: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      const participant = yield* speaking(state, c.spaceId, c.by)
      if (participant.role === "host")
        return yield* Effect.fail(
          new NotPermitted({
            action: "step down",
            standing: "host",
            rule: "the host can't step down; they leave or end"
          })
        )
      return [{ _tag: "SteppedDown", spaceId: c.spaceId, at: now, user: c.by }]
    }),

  MuteSpeaker: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (c.by !== c.user) {
        yield* moderator(state, c.by, "mute another speaker")
        if (c.user === state.host) return yield* Effect.fail(new CannotTargetHost({ action: "mute" }))
      }
      const target = yield* speaking(state, c.spaceId, c.user)
      return target.muted
        ? []
        : [{ _tag: "SpeakerMuted", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  UnmuteSpeaker: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (c.by !== c.user) return yield* Effect.fail(new OnlySpeakerCanUnmute({ user: c.user }))
      const target = yield* speaking(state, c.spaceId, c.user)
      return target.muted ? [{ _tag: "SpeakerUnmuted", spaceId: c.spaceId, at: now, user: c.user }] : []
    }),

  MuteAll: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* moderator(state, c.by, "mute all")
      return [{ _tag: "AllSpeakersMuted", spaceId: c.spaceId, at: now, by: c.by }]
    }),

  RemoveParticipant: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* moderator(state, c.by, "remove a participant")
      if (c.user === state.host) return yield* Effect.fail(new CannotTargetHost({ action: "remove" }))
      const target = yield* present(state, c.spaceId, c.user)
      if (target.role === "cohost" && c.by !== state.host)
        return yield* Effect.fail(
          new NotPermitted({
            action: "remove a co-host",
            standing: "cohost",
            rule: "co-hosts can't remove co-hosts"
          })
        )
      return [{ _tag: "ParticipantRemoved", spaceId: c.spaceId, at: now, user: c.user, by: c.by }]
    }),

  PublishPost: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      const text = yield* validPostText(c.text, rules)
      if (HashSet.has(state.posts, c.postId))
        return yield* Effect.fail(new PostAlreadyExists({ postId: c.postId }))
      return [{ _tag: "PostPublished", spaceId: c.spaceId, at: now, postId: c.postId, author: c.by, text }]
    }),

  PinPost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "pin a post")
      if (!HashSet.has(state.posts, c.postId))
        return yield* Effect.fail(new PostNotFound({ postId: c.postId }))
      return state.pinnedPost === c.postId
        ? []
        : [{ _tag: "PostPinned", spaceId: c.spaceId, at: now, postId: c.postId, by: c.by }]
    }),

  UnpinPost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "unpin a post")
      return state.pinnedPost === null
        ? []
        : [{ _tag: "PostUnpinned", spaceId: c.spaceId, at: now, by: c.by }]
    }),

  AppendCaption: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (!state.captions) return yield* Effect.fail(new CaptionsOff({ spaceId: c.spaceId }))
      yield* present(state, c.spaceId, c.segment.speaker)
      const segment = yield* validCaption(c.segment, rules)
      return [{ _tag: "CaptionAppended", spaceId: c.spaceId, at: now, service: c.service, segment }]
    }),

  ExpireSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      const dueAt = (state.scheduledFor ?? now) + rules.scheduledExpiryMs
      if (now < dueAt)
        return yield* Effect.fail(new NotDueYet({ action: "expire the scheduled Space", dueAt }))
      return [{ _tag: "SpaceExpired", spaceId: c.spaceId, at: now }]
    }),

  EndAbandonedSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      // The host came back: nothing to end (the scheduler's order may arrive late).
      if (state.hostAway === null) return []
      if (now < state.hostAway.graceEndsAt)
        return yield* Effect.fail(
          new NotDueYet({ action: "end the Space for its host's absence", dueAt: state.hostAway.graceEndsAt })
        )
      return [{ _tag: "SpaceEnded", spaceId: c.spaceId, at: now, reason: "host_absent", by: "system" }]
    }),

  DisconnectParticipant: (c, state, ctx) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      // Gone already (walked out, removed, or a late order after a return and a leave): nothing to do.
      if (participantOf(state, c.user) === undefined) return []
      return leaving(state, c.spaceId, c.user, "disconnected", ctx)
    }),

  EndSpaceByOperator: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      const note = c.reason.trim()
      return [
        {
          _tag: "SpaceEnded",
          spaceId: c.spaceId,
          at: now,
          reason: "operator",
          by: c.operator,
          ...(note === "" ? {} : { note })
        }
      ]
    })
}

/**
 * Commands that still apply to a scheduled Space past its deadline: creation (it answers that the
 * Space exists), the expiry itself, and an operator's override.
 */
const UNAFFECTED_BY_EXPIRY = new Set<SpaceCommand["_tag"]>([
  "CreateSpace",
  "ExpireSpace",
  "EndSpaceByOperator"
])

/**
 * From `scheduledFor + scheduledExpiryMs` on, a scheduled Space is expired whether or not the
 * scheduler has recorded it: every other command is refused as it would be once `ExpireSpace`
 * lands, so the outcome never depends on how late the clock runs. (The exact complement of
 * `ExpireSpace`'s `NotDueYet`: at any instant either the host may act or the Space may expire.)
 */
const overdue = (
  command: SpaceCommand,
  state: SpaceState,
  { now, rules }: SpaceContext
): ScheduledSpaceExpired | undefined => {
  if (state.status !== "scheduled" || state.scheduledFor === null || UNAFFECTED_BY_EXPIRY.has(command._tag))
    return undefined
  const expiredAt = state.scheduledFor + rules.scheduledExpiryMs
  return now >= expiredAt
    ? new ScheduledSpaceExpired({ spaceId: command.spaceId, expiredAt, expiryMs: rules.scheduledExpiryMs })
    : undefined
}

/** Decides what a command means for a Space: the events it causes, or the rule it breaks. */
export const decide = (command: SpaceCommand, state: SpaceState, ctx: SpaceContext): Decision => {
  const expired = overdue(command, state, ctx)
  if (expired !== undefined) return Effect.fail(expired)
  const handler = handlers[command._tag] as (c: SpaceCommand, s: SpaceState, x: SpaceContext) => Decision
  return handler(command, state, ctx)
}
