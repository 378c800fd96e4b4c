/** The decisions of the room: joining and leaving, the stage, invitations, moderation. */
import { Effect, HashSet } from "effect"
import {
  AlreadySpeaking,
  CannotTargetHost,
  CoHostLimitReached,
  NoPendingRequest,
  NotACoHost,
  NotPermitted,
  OnlySpeakerCanUnmute,
  SpeakRequestsNotAllowed
} from "./SpaceError.js"
import { isSpeakingRole, participantOf } from "./SpaceState.js"
import {
  live,
  onlyHost,
  moderator,
  notBanned,
  present,
  speaking,
  speakerSeat,
  listenerSeat,
  joiningIfNeeded,
  leaving,
  type Handlers
} from "./guards.js"

export const stageHandlers = {
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
  DisconnectParticipant: (c, state, ctx) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      // Gone already (walked out, removed, or a late order after a return and a leave): nothing to do.
      if (participantOf(state, c.user) === undefined) return []
      return leaving(state, c.spaceId, c.user, "disconnected", ctx)
    })
} satisfies Partial<Handlers>
