import { HashMap, HashSet, Option, Schema } from "effect"
import { TopicSlug } from "../rules/RoomRules.js"
import { PostId, Role, SpaceId, SpeakPolicy, Timestamp, UserId } from "./SpaceValues.js"

export const SpaceStatus = Schema.Literal("none", "scheduled", "live", "ended")
export type SpaceStatus = typeof SpaceStatus.Type

export const EndReason = Schema.Literal("host", "host_absent", "operator", "cancelled", "expired")
export type EndReason = typeof EndReason.Type

export const Participant = Schema.Struct({ role: Role, muted: Schema.Boolean, joinedAt: Timestamp })
export type Participant = typeof Participant.Type

/** Counters kept by `evolve` so that limits are checked in O(1); the property tests recount them. */
export const RoleCounts = Schema.Struct({
  cohosts: Schema.Int,
  /** Host + co-hosts + speakers present in the room. */
  speakers: Schema.Int,
  listeners: Schema.Int
})
export type RoleCounts = typeof RoleCounts.Type

/** The counters with one more (`delta` 1) or one fewer (-1) participant in `role` (none: unchanged). */
export const countsWith = (counts: RoleCounts, role: Role | undefined, delta: 1 | -1): RoleCounts =>
  role === undefined
    ? counts
    : {
        cohosts: counts.cohosts + (role === "cohost" ? delta : 0),
        speakers: counts.speakers + (role === "listener" ? 0 : delta),
        listeners: counts.listeners + (role === "listener" ? delta : 0)
      }

/**
 * A Space as its events make it. Persistent maps and sets keep `evolve` cheap for rooms with
 * many thousands of listeners while staying immutable.
 */
export const SpaceState = Schema.Struct({
  status: SpaceStatus,
  id: Schema.NullOr(SpaceId),
  host: Schema.NullOr(UserId),
  title: Schema.String,
  topics: Schema.Array(TopicSlug),
  speakPolicy: SpeakPolicy,
  recording: Schema.Boolean,
  captions: Schema.Boolean,
  createdAt: Schema.NullOr(Timestamp),
  scheduledFor: Schema.NullOr(Timestamp),
  startedAt: Schema.NullOr(Timestamp),
  endedAt: Schema.NullOr(Timestamp),
  endReason: Schema.NullOr(EndReason),
  participants: Schema.HashMap({ key: UserId, value: Participant }),
  counts: RoleCounts,
  /** Set while the host is away: the Space ends at `graceEndsAt` unless they return. */
  hostAway: Schema.NullOr(Schema.Struct({ since: Timestamp, graceEndsAt: Timestamp })),
  /** Raised hands, oldest first. */
  raisedHands: Schema.Array(UserId),
  speakerInvites: Schema.HashSet(UserId),
  coHostInvites: Schema.HashSet(UserId),
  banned: Schema.HashSet(UserId),
  reminders: Schema.HashSet(UserId),
  posts: Schema.HashSet(PostId),
  pinnedPost: Schema.NullOr(PostId),
  captionSegments: Schema.Int
})
export type SpaceState = typeof SpaceState.Type

export const initialSpaceState: SpaceState = {
  status: "none",
  id: null,
  host: null,
  title: "",
  topics: [],
  speakPolicy: "everyone",
  recording: false,
  captions: false,
  createdAt: null,
  scheduledFor: null,
  startedAt: null,
  endedAt: null,
  endReason: null,
  participants: HashMap.empty(),
  counts: { cohosts: 0, speakers: 0, listeners: 0 },
  hostAway: null,
  raisedHands: [],
  speakerInvites: HashSet.empty(),
  coHostInvites: HashSet.empty(),
  banned: HashSet.empty(),
  reminders: HashSet.empty(),
  posts: HashSet.empty(),
  pinnedPost: null,
  captionSegments: 0
}

export const participantOf = (state: SpaceState, user: UserId): Participant | undefined =>
  Option.getOrUndefined(HashMap.get(state.participants, user))

export const roleOf = (state: SpaceState, user: UserId): Role | undefined => participantOf(state, user)?.role

/** Roles that publish audio. */
export const isSpeakingRole = (role: Role | undefined): boolean =>
  role === "host" || role === "cohost" || role === "speaker"

/** Host and co-hosts run the room. */
export const isModeratorRole = (role: Role | undefined): boolean => role === "host" || role === "cohost"
