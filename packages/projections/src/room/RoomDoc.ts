import type { EndReason, Role, SpaceId, SpaceStatus, SpeakPolicy, TopicSlug, UserId } from "@spaces/domain"
import type { CaptionView, PostView } from "../views.js"

/**
 * One Space as the rooms projection keeps it (table `space`, partition = the Space's id): all
 * but its participants, who are rows of their own (table `member`), so that a join writes one
 * small row plus this header, whatever the size of the room.
 */
export interface RoomDoc {
  readonly spaceId: SpaceId
  readonly status: SpaceStatus
  readonly title: string
  readonly topics: ReadonlyArray<TopicSlug>
  readonly host: UserId
  readonly speakPolicy: SpeakPolicy
  readonly recording: boolean
  /** Recording was on at some moment while live. */
  readonly recorded: boolean
  readonly captions: boolean
  readonly scheduledFor: number | null
  readonly startedAt: number | null
  readonly endedAt: number | null
  readonly endReason: EndReason | null
  readonly hostAway: { readonly since: number; readonly graceEndsAt: number } | null
  readonly counts: { readonly cohosts: number; readonly speakers: number; readonly listeners: number }
  readonly hostPresent: boolean
  /** Co-hosts and speakers, in the order they took the stage (the host is not in it). */
  readonly stage: ReadonlyArray<UserId>
  readonly raisedHands: ReadonlyArray<UserId>
  readonly speakerInvites: ReadonlyArray<UserId>
  readonly cohostInvites: ReadonlyArray<UserId>
  readonly pinnedPost: PostView | null
  /** Newest first, at most `RECENT_POSTS`. */
  readonly recentPosts: ReadonlyArray<PostView>
  /** Oldest first, at most `RECENT_CAPTIONS`. */
  readonly recentCaptions: ReadonlyArray<CaptionView>
  readonly reminders: number
  /** Join counter: orders participants by the time they entered. */
  readonly seq: number
}

export interface MemberDoc {
  readonly role: Role
  readonly muted: boolean
  readonly joinedAt: number
  readonly seq: number
}

export const RECENT_POSTS = 20
export const RECENT_CAPTIONS = 20

/** The rooms projection's tables. */
export const ROOMS = "rooms"
export const SPACE = "space"
export const MEMBER = "member"
export const POST = "post"
export const REMINDER = "reminder"
