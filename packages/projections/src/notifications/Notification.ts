import { SpaceId, Timestamp, UserId } from "@spaces/domain"
import { Schema } from "effect"

/**
 * What a user is told (SPEC §2 Notifications). Each kind names who did it (`actor`) and the Space
 * it is about; `id` orders them (newer is larger) and is the cursor, the SSE id and the read mark.
 */
export const NotificationKind = Schema.Literal(
  /** Someone you follow started a Space. */
  "space-started",
  /** Someone you follow scheduled a Space. */
  "space-scheduled",
  /** Someone you follow went on stage (speaker or co-host) in a Space. */
  "on-stage",
  /** A Space you set a reminder on started. */
  "reminder-started",
  /** You are invited to speak. */
  "speaker-invited",
  /** You are invited to co-host. */
  "cohost-invited",
  /** Your request to speak was approved. */
  "request-approved",
  /** Your request to speak was declined. */
  "request-declined",
  /** You were removed from a Space (and are banned from it). */
  "removed",
  /** A Space you took part in ended (`recorded`: its recording can be played with the replay). */
  "space-ended",
  /** Someone you follow posted about a Space. */
  "space-shared"
)
export type NotificationKind = typeof NotificationKind.Type

export const Notification = Schema.Struct({
  id: Schema.Int,
  kind: NotificationKind,
  spaceId: SpaceId,
  /** The Space's title when it happened. */
  title: Schema.String,
  /** Who did it; `null` for the system (a Space ended by the host's absence). */
  actor: Schema.NullOr(UserId),
  at: Timestamp,
  /** Where the web client opens it: `/s/<id>` (shares), `/#/replay/<id>` (ended), else `/#/space/<id>`. */
  link: Schema.String,
  /** `space-scheduled`: when it starts. */
  scheduledFor: Schema.optional(Timestamp),
  /** `space-ended`: the Space was recorded. */
  recorded: Schema.optional(Schema.Boolean),
  /** `space-shared`: the post's text. */
  text: Schema.optional(Schema.String),
  read: Schema.Boolean
})
export type Notification = typeof Notification.Type

/** A stored notification: what every recipient shares (`read` is the reader's). */
export type NotificationRow = Omit<Notification, "read">

/** One page of a user's notifications, newest first. */
export const NotificationsPage = Schema.Struct({
  notifications: Schema.Array(Notification),
  /** Pass as `before` for the next (older) page; `null`: this was the last page. */
  nextCursor: Schema.NullOr(Schema.Int),
  /** Notifications newer than the read mark, over the whole list (not just this page). */
  unread: Schema.Int,
  /** The newest notification id marked read (0: none). */
  readUpTo: Schema.Int
})
export type NotificationsPage = typeof NotificationsPage.Type

/** Where the web client opens it: a share at its share link, an ended Space at its replay, else the room. */
export const linkOf = (kind: NotificationKind, spaceId: SpaceId) =>
  kind === "space-shared"
    ? `/s/${spaceId}`
    : kind === "space-ended"
      ? `/#/replay/${spaceId}`
      : `/#/space/${spaceId}`

export { describeNotification } from "./describe.js"
