import {
  countsWith,
  type Role,
  type SpaceEvent,
  type SpaceEventTable,
  type SpaceId,
  spaceEventsWhere,
  type UserId
} from "@spaces/domain"
import type { ViewChange } from "../ReadModels.js"
import type { Projection } from "../runner/Projection.js"
import type { Tx } from "../store/Storage.js"
import type { PostView } from "../views.js"
import {
  MEMBER,
  type MemberDoc,
  POST,
  RECENT_CAPTIONS,
  RECENT_POSTS,
  REMINDER,
  ROOMS,
  type RoomDoc,
  SPACE
} from "./RoomDoc.js"

const without = (list: ReadonlyArray<UserId>, user: UserId) =>
  list.includes(user) ? list.filter((u) => u !== user) : list
const adding = (list: ReadonlyArray<UserId>, user: UserId) => (list.includes(user) ? list : [...list, user])

/**
 * Which views each Space event changes: "summary" for what every listing of the Space shows
 * (title, status, people on stage, listeners), "room" for the room view alone.
 */
const CHANGES: SpaceEventTable<"summary" | "room"> = {
  SpaceCreated: "summary",
  SpaceRescheduled: "summary",
  SpaceCancelled: "summary",
  SpaceExpired: "summary",
  SpaceStarted: "summary",
  SpaceEdited: "summary",
  RecordingChanged: "summary",
  ReminderSet: "summary",
  ReminderRemoved: "summary",
  SpaceEnded: "summary",
  ListenerJoined: "summary",
  ParticipantLeft: "summary",
  HostLeft: "summary",
  HostReturned: "summary",
  SpeakRequestApproved: "summary",
  SpeakerInviteAccepted: "summary",
  CoHostInviteAccepted: "summary",
  CoHostRemoved: "summary",
  SteppedDown: "summary",
  ParticipantRemoved: "summary",
  SpeakPolicyChanged: "room",
  CaptionsChanged: "room",
  HandRaised: "room",
  HandLowered: "room",
  SpeakRequestDeclined: "room",
  SpeakerInvited: "room",
  SpeakerInviteDeclined: "room",
  CoHostInvited: "room",
  CoHostInviteDeclined: "room",
  SpeakerMuted: "room",
  SpeakerUnmuted: "room",
  AllSpeakersMuted: "room",
  PostPublished: "room",
  PostPinned: "room",
  PostUnpinned: "room",
  CaptionAppended: "room"
}

/**
 * The room view of every Space, and the summaries every listing shows. Mirrors the domain's
 * `evolve` for what people see (the property test holds it to that), keeping participants as
 * rows so that a big room costs per change, not per participant.
 */
const step = (tx: Tx, event: SpaceEvent, emit: (change: ViewChange) => void): void => {
  const id: SpaceId = event.spaceId
  if (event._tag === "SpaceCreated") {
    const doc: RoomDoc = {
      spaceId: id,
      status: event.scheduledFor === null ? "none" : "scheduled",
      title: event.title,
      topics: event.topics,
      host: event.host,
      speakPolicy: event.speakPolicy,
      recording: event.recording,
      recorded: false,
      captions: event.captions,
      scheduledFor: event.scheduledFor,
      startedAt: null,
      endedAt: null,
      endReason: null,
      hostAway: null,
      counts: { cohosts: 0, speakers: 0, listeners: 0 },
      hostPresent: false,
      stage: [],
      raisedHands: [],
      speakerInvites: [],
      cohostInvites: [],
      pinnedPost: null,
      recentPosts: [],
      recentCaptions: [],
      reminders: 0,
      seq: 0
    }
    tx.put(SPACE, id, "", doc)
    emitAll(doc, emit)
    return
  }
  const stored = tx.get<RoomDoc>(SPACE, id, "")
  // The domain never writes to a Space before creating it; a foreign event is ignored like evolve does.
  if (stored === undefined) return
  let doc = stored
  const member = (user: UserId) => tx.get<MemberDoc>(MEMBER, id, user)

  /** Puts `user` in the room in `role`, keeping counts, the stage and the host's presence right. */
  const seat = (user: UserId, next: Omit<MemberDoc, "seq">) => {
    const before = member(user)
    const seq = before?.seq ?? doc.seq + 1
    tx.put(MEMBER, id, user, { ...next, seq })
    const onStage = next.role === "cohost" || next.role === "speaker"
    doc = {
      ...doc,
      seq: Math.max(doc.seq, seq),
      counts: countsWith(countsWith(doc.counts, before?.role, -1), next.role, 1),
      hostPresent: next.role === "host" ? true : before?.role === "host" ? false : doc.hostPresent,
      stage: onStage
        ? before?.role === "cohost" || before?.role === "speaker"
          ? doc.stage
          : [...doc.stage, user]
        : without(doc.stage, user)
    }
  }
  const withoutPending = (user: UserId) => {
    doc = {
      ...doc,
      raisedHands: without(doc.raisedHands, user),
      speakerInvites: without(doc.speakerInvites, user),
      cohostInvites: without(doc.cohostInvites, user)
    }
  }
  const unseat = (user: UserId) => {
    const before = member(user)
    if (before !== undefined) {
      tx.del(MEMBER, id, user)
      doc = {
        ...doc,
        counts: countsWith(doc.counts, before.role, -1),
        hostPresent: before.role === "host" ? false : doc.hostPresent,
        stage: without(doc.stage, user)
      }
    }
    withoutPending(user)
  }
  const changeRole = (user: UserId, role: Role) => {
    const before = member(user)
    if (before === undefined) return
    withoutPending(user)
    const muted = role === "listener" || before.role === "listener" ? true : before.muted
    seat(user, { role, muted, joinedAt: before.joinedAt })
  }
  const setMuted = (user: UserId, muted: boolean) => {
    const before = member(user)
    if (before !== undefined && before.role !== "listener") tx.put(MEMBER, id, user, { ...before, muted })
  }
  const end = (at: number, reason: NonNullable<RoomDoc["endReason"]>) => {
    for (const [user] of tx.scan<MemberDoc>(MEMBER, id)) tx.del(MEMBER, id, user)
    doc = {
      ...doc,
      status: "ended",
      endedAt: at,
      endReason: reason,
      counts: { cohosts: 0, speakers: 0, listeners: 0 },
      hostPresent: false,
      stage: [],
      hostAway: null,
      raisedHands: [],
      speakerInvites: [],
      cohostInvites: []
    }
  }

  switch (event._tag) {
    case "SpaceRescheduled":
      doc = { ...doc, scheduledFor: event.scheduledFor }
      break
    case "SpaceCancelled":
      end(event.at, "cancelled")
      break
    case "SpaceExpired":
      end(event.at, "expired")
      break
    case "SpaceEnded":
      end(event.at, event.reason)
      break
    case "SpaceStarted":
      doc = { ...doc, status: "live", startedAt: event.at, recorded: doc.recorded || doc.recording }
      seat(event.host, { role: "host", muted: true, joinedAt: event.at })
      break
    case "SpaceEdited":
      doc = { ...doc, title: event.title, topics: event.topics }
      break
    case "SpeakPolicyChanged":
      doc = { ...doc, speakPolicy: event.speakPolicy }
      break
    case "RecordingChanged":
      doc = {
        ...doc,
        recording: event.recording,
        recorded: doc.recorded || (event.recording && doc.status === "live")
      }
      break
    case "CaptionsChanged":
      doc = { ...doc, captions: event.captions }
      break
    case "ReminderSet":
      if (tx.get(REMINDER, id, event.user) === undefined) {
        tx.put(REMINDER, id, event.user, 1)
        doc = { ...doc, reminders: doc.reminders + 1 }
      }
      break
    case "ReminderRemoved":
      if (tx.get(REMINDER, id, event.user) !== undefined) {
        tx.del(REMINDER, id, event.user)
        doc = { ...doc, reminders: doc.reminders - 1 }
      }
      break
    case "ListenerJoined":
      seat(event.user, { role: "listener", muted: true, joinedAt: event.at })
      break
    case "ParticipantLeft":
    case "ParticipantRemoved":
      unseat(event.user)
      break
    case "HostLeft":
      unseat(event.user)
      doc = { ...doc, hostAway: { since: event.at, graceEndsAt: event.graceEndsAt } }
      break
    case "HostReturned":
      doc = { ...doc, hostAway: null }
      seat(event.user, { role: "host", muted: true, joinedAt: event.at })
      break
    case "HandRaised":
      doc = { ...doc, raisedHands: adding(doc.raisedHands, event.user) }
      break
    case "HandLowered":
    case "SpeakRequestDeclined":
      doc = { ...doc, raisedHands: without(doc.raisedHands, event.user) }
      break
    case "SpeakRequestApproved":
    case "SpeakerInviteAccepted":
    case "CoHostRemoved":
      changeRole(event.user, "speaker")
      break
    case "SpeakerInvited":
      doc = { ...doc, speakerInvites: adding(doc.speakerInvites, event.user) }
      break
    case "SpeakerInviteDeclined":
      doc = { ...doc, speakerInvites: without(doc.speakerInvites, event.user) }
      break
    case "CoHostInvited":
      doc = { ...doc, cohostInvites: adding(doc.cohostInvites, event.user) }
      break
    case "CoHostInviteAccepted":
      changeRole(event.user, "cohost")
      break
    case "CoHostInviteDeclined":
      doc = { ...doc, cohostInvites: without(doc.cohostInvites, event.user) }
      break
    case "SteppedDown":
      changeRole(event.user, "listener")
      break
    case "SpeakerMuted":
      setMuted(event.user, true)
      break
    case "SpeakerUnmuted":
      setMuted(event.user, false)
      break
    case "AllSpeakersMuted":
      // The host is never muted by others; co-hosts and speakers are exactly the stage.
      for (const user of doc.stage) setMuted(user, true)
      break
    case "PostPublished": {
      const post: PostView = { postId: event.postId, author: event.author, text: event.text, at: event.at }
      tx.put(POST, id, event.postId, post)
      doc = { ...doc, recentPosts: [post, ...doc.recentPosts].slice(0, RECENT_POSTS) }
      break
    }
    case "PostPinned":
      doc = { ...doc, pinnedPost: tx.get<PostView>(POST, id, event.postId) ?? null }
      break
    case "PostUnpinned":
      doc = { ...doc, pinnedPost: null }
      break
    case "CaptionAppended": {
      const { speaker, text, startMs, endMs } = event.segment
      const caption = { speaker, text, startMs, endMs, at: event.at }
      doc = { ...doc, recentCaptions: [...(doc.recentCaptions ?? []), caption].slice(-RECENT_CAPTIONS) }
      break
    }
  }
  tx.put(SPACE, id, "", doc)
  if (CHANGES[event._tag] === "summary") emitAll(doc, emit)
  else emit({ _tag: "Room", spaceId: id })
}

/** The Space's summary changed: every view that lists it. */
const emitAll = (doc: RoomDoc, emit: (change: ViewChange) => void) => {
  emit({ _tag: "Room", spaceId: doc.spaceId })
  if (doc.topics.length > 0) emit({ _tag: "Topic", topics: doc.topics })
  emit({ _tag: "Creator", user: doc.host })
  // Feeds list live Spaces only; entering and leaving them is the feed projection's change.
  if (doc.status === "live") emit({ _tag: "FeedSpaces", spaceIds: [doc.spaceId] })
}

export const roomsProjection: Projection = {
  name: ROOMS,
  // 2: the room view carries the recent captions.
  version: 2,
  // Every Space event changes the room view (`CHANGES` says which others).
  handles: spaceEventsWhere(CHANGES, () => true),
  step: (tx, event, emit) => {
    // Space events only (see `handles`): of the user events, only `SpaceEntered` names a Space.
    if ("spaceId" in event && event._tag !== "SpaceEntered") step(tx, event, emit)
  }
}
