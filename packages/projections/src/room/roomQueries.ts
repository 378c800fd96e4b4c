import type { SpaceId, UserId } from "@spaces/domain"
import { Option } from "effect"
import type { ReadView } from "../store/Storage.js"
import type { EndedSpaceSummary, LiveSpaceSummary, RoomView, ScheduledSpaceSummary } from "../views.js"
import { MEMBER, type MemberDoc, type RoomDoc, SPACE } from "./RoomDoc.js"

export const roomDoc = (rooms: ReadView, spaceId: string): RoomDoc | undefined =>
  rooms.get<RoomDoc>(SPACE, spaceId, "")

/** Host first (while in the room), then co-hosts and speakers in the order they took the stage. */
export const speakersOf = (doc: RoomDoc): ReadonlyArray<UserId> =>
  doc.hostPresent ? [doc.host, ...doc.stage] : doc.stage

/** The fields every summary of a Space shares (see `SpaceIdentity` in views.ts). */
const identityOf = (doc: RoomDoc) => ({
  spaceId: doc.spaceId,
  title: doc.title,
  topics: doc.topics,
  host: doc.host
})

export const liveSummary = (doc: RoomDoc): LiveSpaceSummary => ({
  ...identityOf(doc),
  speakers: speakersOf(doc),
  listenerCount: doc.counts.listeners,
  startedAt: doc.startedAt ?? 0,
  recording: doc.recording
})

export const scheduledSummary = (doc: RoomDoc): ScheduledSpaceSummary => ({
  ...identityOf(doc),
  scheduledFor: doc.scheduledFor ?? 0,
  reminders: doc.reminders
})

export const endedSummary = (doc: RoomDoc): EndedSpaceSummary => ({
  ...identityOf(doc),
  startedAt: doc.startedAt,
  endedAt: doc.endedAt ?? 0,
  endReason: doc.endReason ?? "host",
  recorded: doc.recorded
})

/** Most listeners first; ties by start (newest first), then id, so that every listing is stable. */
export const byListeners = (a: LiveSpaceSummary, b: LiveSpaceSummary) =>
  b.listenerCount - a.listenerCount || b.startedAt - a.startedAt || compare(a.spaceId, b.spaceId)
/** Soonest first, then id. */
export const bySchedule = (a: ScheduledSpaceSummary, b: ScheduledSpaceSummary) =>
  a.scheduledFor - b.scheduledFor || compare(a.spaceId, b.spaceId)
export const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const roleRank = { host: 0, cohost: 1, speaker: 2, listener: 3 } as const

export const roomView = (rooms: ReadView, spaceId: SpaceId): Option.Option<RoomView> => {
  const doc = roomDoc(rooms, spaceId)
  if (doc === undefined) return Option.none()
  const members = rooms
    .scan<MemberDoc>(MEMBER, spaceId)
    .slice()
    .sort(([, a], [, b]) => roleRank[a.role] - roleRank[b.role] || a.seq - b.seq)
  return Option.some({
    spaceId,
    status: doc.status,
    title: doc.title,
    topics: doc.topics,
    host: doc.host,
    hostAway: doc.hostAway,
    speakPolicy: doc.speakPolicy,
    recording: doc.recording,
    captions: doc.captions,
    scheduledFor: doc.scheduledFor,
    startedAt: doc.startedAt,
    endedAt: doc.endedAt,
    participants: members.map(([user, m]) => ({
      user: user as UserId,
      role: m.role,
      muted: m.muted,
      joinedAt: m.joinedAt
    })),
    raisedHands: doc.raisedHands,
    invitations: { speakers: doc.speakerInvites, cohosts: doc.cohostInvites },
    counts: doc.counts,
    pinnedPost: doc.pinnedPost,
    recentPosts: doc.recentPosts,
    recentCaptions: doc.recentCaptions,
    reminders: doc.reminders
  })
}
