import { type SpaceEventTable, type SpaceId, spaceEventsIn, type UserId } from "@spaces/domain"
import {
  compare,
  bySchedule,
  endedSummary,
  liveSummary,
  roomDoc,
  scheduledSummary
} from "../room/roomQueries.js"
import type { RoomDoc } from "../room/RoomDoc.js"
import type { Projection } from "../runner/Projection.js"
import type { ReadView } from "../store/Storage.js"
import type { CreatorView } from "../views.js"

/** Each user's hosted Spaces: the ids only (a Space's host never changes); the rest is the room's summary. */
export const CREATOR = "creator"
export const HOSTED = "hosted"

/** The Space events the creator index reads (every event has its entry: a new one must be decided here). */
const CREATOR_READS: SpaceEventTable<boolean> = {
  SpaceCreated: true,
  SpaceRescheduled: false,
  SpaceCancelled: false,
  SpaceExpired: false,
  SpaceStarted: false,
  SpaceEdited: false,
  SpeakPolicyChanged: false,
  RecordingChanged: false,
  CaptionsChanged: false,
  ReminderSet: false,
  ReminderRemoved: false,
  SpaceEnded: false,
  ListenerJoined: false,
  ParticipantLeft: false,
  HostLeft: false,
  HostReturned: false,
  HandRaised: false,
  HandLowered: false,
  SpeakRequestApproved: false,
  SpeakRequestDeclined: false,
  SpeakerInvited: false,
  SpeakerInviteAccepted: false,
  SpeakerInviteDeclined: false,
  CoHostInvited: false,
  CoHostInviteAccepted: false,
  CoHostInviteDeclined: false,
  CoHostRemoved: false,
  SteppedDown: false,
  SpeakerMuted: false,
  SpeakerUnmuted: false,
  AllSpeakersMuted: false,
  ParticipantRemoved: false,
  PostPublished: false,
  PostPinned: false,
  PostUnpinned: false,
  CaptionAppended: false
}

export const creatorProjection: Projection = {
  name: CREATOR,
  version: 1,
  handles: spaceEventsIn(CREATOR_READS),
  step: (tx, event) => {
    if (event._tag === "SpaceCreated") tx.put(HOSTED, event.host, event.spaceId, 1)
  }
}

/** Live (newest first), scheduled (soonest first), ended (most recent first). */
export const creatorOf = (creator: ReadView, rooms: ReadView, user: UserId): CreatorView => {
  const docs: Array<RoomDoc> = []
  for (const [id] of creator.scan(HOSTED, user)) {
    const doc = roomDoc(rooms, id as SpaceId)
    if (doc !== undefined) docs.push(doc)
  }
  return {
    user,
    live: docs
      .filter((d) => d.status === "live")
      .map(liveSummary)
      .sort((a, b) => b.startedAt - a.startedAt || compare(a.spaceId, b.spaceId)),
    scheduled: docs
      .filter((d) => d.status === "scheduled")
      .map(scheduledSummary)
      .sort(bySchedule),
    ended: docs
      .filter((d) => d.status === "ended")
      .map(endedSummary)
      .sort((a, b) => b.endedAt - a.endedAt || compare(a.spaceId, b.spaceId))
  }
}
