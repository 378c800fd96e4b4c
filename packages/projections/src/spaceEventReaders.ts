import { type SpaceEventTable, type SpaceEventTag, spaceEventsWhere } from "@spaces/domain"

/** The views that read a selection of the Space events (the rooms view reads them all). */
export type SpaceEventReader = "feed" | "topics" | "schedule" | "creator" | "notifications"

/**
 * Which views read each Space event: one row per event, so that a new event fails the typecheck
 * here until it is decided for every view at once (an empty row: none of them reads it).
 */
const READERS: SpaceEventTable<ReadonlyArray<SpaceEventReader>> = {
  SpaceCreated: ["topics", "schedule", "creator", "notifications"],
  SpaceRescheduled: ["schedule"],
  SpaceCancelled: ["feed", "topics", "schedule", "notifications"],
  SpaceExpired: ["feed", "topics", "schedule", "notifications"],
  SpaceStarted: ["feed", "topics", "schedule", "notifications"],
  SpaceEdited: ["topics", "notifications"],
  SpeakPolicyChanged: [],
  RecordingChanged: ["notifications"],
  CaptionsChanged: [],
  ReminderSet: ["schedule", "notifications"],
  ReminderRemoved: ["schedule", "notifications"],
  SpaceEnded: ["feed", "topics", "schedule", "notifications"],
  ListenerJoined: ["feed", "notifications"],
  ParticipantLeft: ["feed", "notifications"],
  HostLeft: ["feed", "schedule", "notifications"],
  HostReturned: ["feed", "schedule"],
  HandRaised: [],
  HandLowered: [],
  SpeakRequestApproved: ["feed", "notifications"],
  SpeakRequestDeclined: ["notifications"],
  SpeakerInvited: ["notifications"],
  SpeakerInviteAccepted: ["feed", "notifications"],
  SpeakerInviteDeclined: [],
  CoHostInvited: ["notifications"],
  CoHostInviteAccepted: ["feed", "notifications"],
  CoHostInviteDeclined: [],
  CoHostRemoved: ["feed"],
  SteppedDown: ["feed", "notifications"],
  SpeakerMuted: [],
  SpeakerUnmuted: [],
  AllSpeakersMuted: [],
  ParticipantRemoved: ["feed", "notifications"],
  PostPublished: ["notifications"],
  PostPinned: [],
  PostUnpinned: [],
  CaptionAppended: ["topics"]
}

/** The Space events a view reads (its projection's `handles`, with its user events if any). */
export const spaceEventsReadBy = (reader: SpaceEventReader): ReadonlySet<SpaceEventTag> =>
  spaceEventsWhere(READERS, (readers) => readers.includes(reader))
