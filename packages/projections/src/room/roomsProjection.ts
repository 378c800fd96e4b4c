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

/** A step's Space: the document as changed so far (the helpers below replace it, never mutate it). */
interface Room {
  readonly tx: Tx
  readonly id: SpaceId
  doc: RoomDoc
}

// The helpers take the step's `Room`: no closures made per event.
const member = (r: Room, user: UserId) => r.tx.get<MemberDoc>(MEMBER, r.id, user)

/** Puts `user` in the room in `role`, keeping counts, the stage and the host's presence right. */
const seat = (r: Room, user: UserId, next: Omit<MemberDoc, "seq">) => {
  const { doc } = r
  const before = member(r, user)
  const seq = before?.seq ?? doc.seq + 1
  r.tx.put(MEMBER, r.id, user, { ...next, seq })
  const onStage = next.role === "cohost" || next.role === "speaker"
  r.doc = {
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
const withoutPending = (r: Room, user: UserId) => {
  const { doc } = r
  r.doc = {
    ...doc,
    raisedHands: without(doc.raisedHands, user),
    speakerInvites: without(doc.speakerInvites, user),
    cohostInvites: without(doc.cohostInvites, user)
  }
}
const unseat = (r: Room, user: UserId) => {
  const before = member(r, user)
  if (before !== undefined) {
    r.tx.del(MEMBER, r.id, user)
    const { doc } = r
    r.doc = {
      ...doc,
      counts: countsWith(doc.counts, before.role, -1),
      hostPresent: before.role === "host" ? false : doc.hostPresent,
      stage: without(doc.stage, user)
    }
  }
  withoutPending(r, user)
}
const changeRole = (r: Room, user: UserId, role: Role) => {
  const before = member(r, user)
  if (before === undefined) return
  withoutPending(r, user)
  const muted = role === "listener" || before.role === "listener" ? true : before.muted
  seat(r, user, { role, muted, joinedAt: before.joinedAt })
}
const setMuted = (r: Room, user: UserId, muted: boolean) => {
  const before = member(r, user)
  if (before !== undefined && before.role !== "listener") r.tx.put(MEMBER, r.id, user, { ...before, muted })
}
const end = (r: Room, at: number, reason: NonNullable<RoomDoc["endReason"]>) => {
  for (const [user] of r.tx.scan<MemberDoc>(MEMBER, r.id)) r.tx.del(MEMBER, r.id, user)
  r.doc = {
    ...r.doc,
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
  const r: Room = { tx, id, doc: stored }
  switch (event._tag) {
    case "SpaceRescheduled":
      r.doc = { ...r.doc, scheduledFor: event.scheduledFor }
      break
    case "SpaceCancelled":
      end(r, event.at, "cancelled")
      break
    case "SpaceExpired":
      end(r, event.at, "expired")
      break
    case "SpaceEnded":
      end(r, event.at, event.reason)
      break
    case "SpaceStarted":
      r.doc = { ...r.doc, status: "live", startedAt: event.at, recorded: r.doc.recorded || r.doc.recording }
      seat(r, event.host, { role: "host", muted: true, joinedAt: event.at })
      break
    case "SpaceEdited":
      r.doc = { ...r.doc, title: event.title, topics: event.topics }
      break
    case "SpeakPolicyChanged":
      r.doc = { ...r.doc, speakPolicy: event.speakPolicy }
      break
    case "RecordingChanged":
      r.doc = {
        ...r.doc,
        recording: event.recording,
        recorded: r.doc.recorded || (event.recording && r.doc.status === "live")
      }
      break
    case "CaptionsChanged":
      r.doc = { ...r.doc, captions: event.captions }
      break
    case "ReminderSet":
      if (tx.get(REMINDER, id, event.user) === undefined) {
        tx.put(REMINDER, id, event.user, 1)
        r.doc = { ...r.doc, reminders: r.doc.reminders + 1 }
      }
      break
    case "ReminderRemoved":
      if (tx.get(REMINDER, id, event.user) !== undefined) {
        tx.del(REMINDER, id, event.user)
        r.doc = { ...r.doc, reminders: r.doc.reminders - 1 }
      }
      break
    case "ListenerJoined":
      seat(r, event.user, { role: "listener", muted: true, joinedAt: event.at })
      break
    case "ParticipantLeft":
    case "ParticipantRemoved":
      unseat(r, event.user)
      break
    case "HostLeft":
      unseat(r, event.user)
      r.doc = { ...r.doc, hostAway: { since: event.at, graceEndsAt: event.graceEndsAt } }
      break
    case "HostReturned":
      r.doc = { ...r.doc, hostAway: null }
      seat(r, event.user, { role: "host", muted: true, joinedAt: event.at })
      break
    case "HandRaised":
      r.doc = { ...r.doc, raisedHands: adding(r.doc.raisedHands, event.user) }
      break
    case "HandLowered":
    case "SpeakRequestDeclined":
      r.doc = { ...r.doc, raisedHands: without(r.doc.raisedHands, event.user) }
      break
    case "SpeakRequestApproved":
    case "SpeakerInviteAccepted":
    case "CoHostRemoved":
      changeRole(r, event.user, "speaker")
      break
    case "SpeakerInvited":
      r.doc = { ...r.doc, speakerInvites: adding(r.doc.speakerInvites, event.user) }
      break
    case "SpeakerInviteDeclined":
      r.doc = { ...r.doc, speakerInvites: without(r.doc.speakerInvites, event.user) }
      break
    case "CoHostInvited":
      r.doc = { ...r.doc, cohostInvites: adding(r.doc.cohostInvites, event.user) }
      break
    case "CoHostInviteAccepted":
      changeRole(r, event.user, "cohost")
      break
    case "CoHostInviteDeclined":
      r.doc = { ...r.doc, cohostInvites: without(r.doc.cohostInvites, event.user) }
      break
    case "SteppedDown":
      changeRole(r, event.user, "listener")
      break
    case "SpeakerMuted":
      setMuted(r, event.user, true)
      break
    case "SpeakerUnmuted":
      setMuted(r, event.user, false)
      break
    case "AllSpeakersMuted":
      // The host is never muted by others; co-hosts and speakers are exactly the stage.
      for (const user of r.doc.stage) setMuted(r, user, true)
      break
    case "PostPublished": {
      const post: PostView = { postId: event.postId, author: event.author, text: event.text, at: event.at }
      tx.put(POST, id, event.postId, post)
      r.doc = { ...r.doc, recentPosts: [post, ...r.doc.recentPosts].slice(0, RECENT_POSTS) }
      break
    }
    case "PostPinned":
      r.doc = { ...r.doc, pinnedPost: tx.get<PostView>(POST, id, event.postId) ?? null }
      break
    case "PostUnpinned":
      r.doc = { ...r.doc, pinnedPost: null }
      break
    case "CaptionAppended": {
      const { speaker, text, startMs, endMs } = event.segment
      const caption = { speaker, text, startMs, endMs, at: event.at }
      r.doc = { ...r.doc, recentCaptions: [...(r.doc.recentCaptions ?? []), caption].slice(-RECENT_CAPTIONS) }
      break
    }
  }
  tx.put(SPACE, id, "", r.doc)
  if (CHANGES[event._tag] === "summary") emitAll(r.doc, emit)
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
