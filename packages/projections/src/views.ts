import { Schema } from "effect"
import {
  PostId,
  Role,
  SpaceId,
  SpaceStatus,
  SpeakPolicy,
  Timestamp,
  TopicSlug,
  UserId,
  EndReason
} from "@spaces/domain"

/**
 * What people see (SPEC §2), as schemas: the projections build these, the HTTP port serves them
 * and derives its OpenAPI document from them.
 */

/** A live Space as listed in the live bar, a topic or a search. */
/** What every summary of a Space says: which Space, its title and topics, its host. */
const SpaceIdentity = {
  spaceId: SpaceId,
  title: Schema.String,
  topics: Schema.Array(TopicSlug),
  host: UserId
}

export const LiveSpaceSummary = Schema.Struct({
  ...SpaceIdentity,
  /** Host, co-hosts and speakers, in the order they took the stage. */
  speakers: Schema.Array(UserId),
  listenerCount: Schema.Int,
  startedAt: Timestamp,
  recording: Schema.Boolean
})
export type LiveSpaceSummary = typeof LiveSpaceSummary.Type

export const ScheduledSpaceSummary = Schema.Struct({
  ...SpaceIdentity,
  scheduledFor: Timestamp,
  reminders: Schema.Int
})
export type ScheduledSpaceSummary = typeof ScheduledSpaceSummary.Type

export const EndedSpaceSummary = Schema.Struct({
  ...SpaceIdentity,
  startedAt: Schema.NullOr(Timestamp),
  endedAt: Timestamp,
  endReason: EndReason,
  /** The Space was recorded at some point while live: its audio can be played with the replay. */
  recorded: Schema.Boolean
})
export type EndedSpaceSummary = typeof EndedSpaceSummary.Type

/** One entry of a user's live bar: why it is there, for ranking and display. */
export const FeedEntry = Schema.Struct({
  space: LiveSpaceSummary,
  /** People the viewer follows who are in the Space (host and speakers first). */
  followedParticipants: Schema.Array(UserId),
  /** The viewer follows the host or one of the speakers: these rank first. */
  followsHostOrSpeaker: Schema.Boolean
})
export type FeedEntry = typeof FeedEntry.Type

export const TopicView = Schema.Struct({
  topic: TopicSlug,
  /** By listener count, most first. */
  live: Schema.Array(LiveSpaceSummary),
  /** By start time, soonest first. */
  upcoming: Schema.Array(ScheduledSpaceSummary)
})
export type TopicView = typeof TopicView.Type

export const CreatorView = Schema.Struct({
  user: UserId,
  live: Schema.Array(LiveSpaceSummary),
  scheduled: Schema.Array(ScheduledSpaceSummary),
  ended: Schema.Array(EndedSpaceSummary)
})
export type CreatorView = typeof CreatorView.Type

export const PostView = Schema.Struct({ postId: PostId, author: UserId, text: Schema.String, at: Timestamp })
export type PostView = typeof PostView.Type

/** A final caption segment as the room shows it: who said what, where on the Space's timeline. */
export const CaptionView = Schema.Struct({
  speaker: UserId,
  text: Schema.String,
  startMs: Schema.Int,
  endMs: Schema.Int,
  at: Timestamp
})
export type CaptionView = typeof CaptionView.Type

export const RoomParticipant = Schema.Struct({
  user: UserId,
  role: Role,
  muted: Schema.Boolean,
  joinedAt: Timestamp
})

/** Everything a person in the room sees. */
export const RoomView = Schema.Struct({
  spaceId: SpaceId,
  status: SpaceStatus,
  title: Schema.String,
  topics: Schema.Array(TopicSlug),
  host: UserId,
  hostAway: Schema.NullOr(Schema.Struct({ since: Timestamp, graceEndsAt: Timestamp })),
  speakPolicy: SpeakPolicy,
  recording: Schema.Boolean,
  captions: Schema.Boolean,
  scheduledFor: Schema.NullOr(Timestamp),
  startedAt: Schema.NullOr(Timestamp),
  endedAt: Schema.NullOr(Timestamp),
  /** Host, then co-hosts, speakers and listeners; each group in joining order. */
  participants: Schema.Array(RoomParticipant),
  /** Oldest first. */
  raisedHands: Schema.Array(UserId),
  invitations: Schema.Struct({ speakers: Schema.Array(UserId), cohosts: Schema.Array(UserId) }),
  counts: Schema.Struct({ cohosts: Schema.Int, speakers: Schema.Int, listeners: Schema.Int }),
  pinnedPost: Schema.NullOr(PostView),
  /** Newest first, a bounded window. */
  recentPosts: Schema.Array(PostView),
  /** The last final captions, oldest first (a page opening mid-Space shows what was just said). */
  recentCaptions: Schema.Array(CaptionView),
  reminders: Schema.Int
})
export type RoomView = typeof RoomView.Type

/**
 * The room view as `GET /v1/spaces/:id` answers it: with the log position it reflects, so that a
 * client opens the Space's live stream after it (`?after=`) instead of replaying its whole history.
 */
export const RoomViewAt = Schema.Struct({
  ...RoomView.fields,
  /** The rooms projection's position, read before the view: the view includes at least this much. */
  position: Schema.Int
})
export type RoomViewAt = typeof RoomViewAt.Type

/** Search by topic and by words of the title, over live and upcoming Spaces. */
export const SearchResults = Schema.Struct({
  live: Schema.Array(LiveSpaceSummary),
  upcoming: Schema.Array(ScheduledSpaceSummary)
})
export type SearchResults = typeof SearchResults.Type

/** A system command that falls due at a time: scheduled expiry, or the end of a host's grace. */
export const DueCommand = Schema.Struct({
  spaceId: SpaceId,
  command: Schema.Literal("ExpireSpace", "EndAbandonedSpace"),
  dueAt: Timestamp
})
export type DueCommand = typeof DueCommand.Type

/** How far a projection runner is behind the log. */
export const RunnerStatus = Schema.Struct({
  name: Schema.String,
  version: Schema.Int,
  checkpoint: Schema.Int,
  head: Schema.Int,
  lagEvents: Schema.Int,
  lagSeconds: Schema.Number,
  state: Schema.Literal("catching-up", "live", "stopped", "failed"),
  error: Schema.NullOr(Schema.String)
})
export type RunnerStatus = typeof RunnerStatus.Type
