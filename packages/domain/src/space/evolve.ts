import { HashMap, HashSet } from "effect"
import type { SpaceEvent } from "./SpaceEvent.js"
import { countsWith, type Participant, participantOf, type SpaceState } from "./SpaceState.js"
import type { Role, UserId } from "./SpaceValues.js"

/** Puts `user` in the room as `participant`, keeping the role counters right. */
const seat = (state: SpaceState, user: UserId, participant: Participant): SpaceState => {
  const before = participantOf(state, user)
  return {
    ...state,
    participants: HashMap.set(state.participants, user, participant),
    counts: countsWith(countsWith(state.counts, before?.role, -1), participant.role, 1)
  }
}

/** Takes `user` out of the room and out of every pending request and invitation. */
const unseat = (state: SpaceState, user: UserId): SpaceState => {
  const before = participantOf(state, user)
  return withoutPending(
    before === undefined
      ? state
      : {
          ...state,
          participants: HashMap.remove(state.participants, user),
          counts: countsWith(state.counts, before.role, -1)
        },
    user
  )
}

const withoutHand = (state: SpaceState, user: UserId): SpaceState =>
  state.raisedHands.includes(user)
    ? { ...state, raisedHands: state.raisedHands.filter((u) => u !== user) }
    : state

const withoutPending = (state: SpaceState, user: UserId): SpaceState => ({
  ...withoutHand(state, user),
  speakerInvites: HashSet.remove(state.speakerInvites, user),
  coHostInvites: HashSet.remove(state.coHostInvites, user)
})

/** Changes a present participant's role (a no-op for someone not in the room). New speakers start muted. */
const changeRole = (state: SpaceState, user: UserId, role: Role): SpaceState => {
  const before = participantOf(state, user)
  if (before === undefined) return state
  const muted = role === "listener" || before.role === "listener" ? true : before.muted
  return seat(withoutPending(state, user), user, { ...before, role, muted })
}

const setMuted = (state: SpaceState, user: UserId, muted: boolean): SpaceState => {
  const before = participantOf(state, user)
  return before === undefined || before.role === "listener" ? state : seat(state, user, { ...before, muted })
}

/** Ending clears the room: nobody is live in an ended Space. */
const end = (state: SpaceState, at: number, reason: NonNullable<SpaceState["endReason"]>): SpaceState => ({
  ...state,
  status: "ended",
  endedAt: at,
  endReason: reason,
  participants: HashMap.empty(),
  counts: { cohosts: 0, speakers: 0, listeners: 0 },
  hostAway: null,
  raisedHands: [],
  speakerInvites: HashSet.empty(),
  coHostInvites: HashSet.empty()
})

/**
 * Folds one event into the state. Total: an event that makes no sense in `state` (which the
 * deciders never emit) leaves the state as it is rather than throwing.
 */
export const evolve = (state: SpaceState, event: SpaceEvent): SpaceState => {
  switch (event._tag) {
    case "SpaceCreated":
      return {
        ...state,
        status: event.scheduledFor === null ? state.status : "scheduled",
        id: event.spaceId,
        host: event.host,
        title: event.title,
        topics: event.topics,
        speakPolicy: event.speakPolicy,
        recording: event.recording,
        captions: event.captions,
        createdAt: event.at,
        scheduledFor: event.scheduledFor
      }
    case "SpaceRescheduled":
      return { ...state, scheduledFor: event.scheduledFor }
    case "SpaceCancelled":
      return end(state, event.at, "cancelled")
    case "SpaceExpired":
      return end(state, event.at, "expired")
    case "SpaceStarted":
      return seat({ ...state, status: "live", startedAt: event.at }, event.host, {
        role: "host",
        muted: true,
        joinedAt: event.at
      })
    case "SpaceEdited":
      return { ...state, title: event.title, topics: event.topics }
    case "SpeakPolicyChanged":
      return { ...state, speakPolicy: event.speakPolicy }
    case "RecordingChanged":
      return { ...state, recording: event.recording }
    case "CaptionsChanged":
      return { ...state, captions: event.captions }
    case "ReminderSet":
      return { ...state, reminders: HashSet.add(state.reminders, event.user) }
    case "ReminderRemoved":
      return { ...state, reminders: HashSet.remove(state.reminders, event.user) }
    case "SpaceEnded":
      return end(state, event.at, event.reason)
    case "ListenerJoined":
      return seat(state, event.user, { role: "listener", muted: true, joinedAt: event.at })
    case "ParticipantLeft":
      return unseat(state, event.user)
    case "HostLeft":
      return { ...unseat(state, event.user), hostAway: { since: event.at, graceEndsAt: event.graceEndsAt } }
    case "HostReturned":
      return seat({ ...state, hostAway: null }, event.user, { role: "host", muted: true, joinedAt: event.at })
    case "HandRaised":
      return state.raisedHands.includes(event.user)
        ? state
        : { ...state, raisedHands: [...state.raisedHands, event.user] }
    case "HandLowered":
    case "SpeakRequestDeclined":
      return withoutHand(state, event.user)
    case "SpeakRequestApproved":
    case "SpeakerInviteAccepted":
    case "CoHostRemoved":
      return changeRole(state, event.user, "speaker")
    case "SpeakerInvited":
      return { ...state, speakerInvites: HashSet.add(state.speakerInvites, event.user) }
    case "SpeakerInviteDeclined":
      return { ...state, speakerInvites: HashSet.remove(state.speakerInvites, event.user) }
    case "CoHostInvited":
      return { ...state, coHostInvites: HashSet.add(state.coHostInvites, event.user) }
    case "CoHostInviteAccepted":
      return changeRole(state, event.user, "cohost")
    case "CoHostInviteDeclined":
      return { ...state, coHostInvites: HashSet.remove(state.coHostInvites, event.user) }
    case "SteppedDown":
      return changeRole(state, event.user, "listener")
    case "SpeakerMuted":
      return setMuted(state, event.user, true)
    case "SpeakerUnmuted":
      return setMuted(state, event.user, false)
    case "AllSpeakersMuted":
      return HashMap.reduce(state.participants, state, (next, participant, user) =>
        participant.role === "speaker" || participant.role === "cohost" ? setMuted(next, user, true) : next
      )
    case "ParticipantRemoved":
      return { ...unseat(state, event.user), banned: HashSet.add(state.banned, event.user) }
    case "PostPublished":
      return { ...state, posts: HashSet.add(state.posts, event.postId) }
    case "PostPinned":
      return { ...state, pinnedPost: event.postId }
    case "PostUnpinned":
      return { ...state, pinnedPost: null }
    case "CaptionAppended":
      return { ...state, captionSegments: state.captionSegments + 1 }
  }
}

export const fold = (events: Iterable<SpaceEvent>, from: SpaceState): SpaceState => {
  let state = from
  for (const event of events) state = evolve(state, event)
  return state
}
