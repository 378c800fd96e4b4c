import { Effect } from "effect"
import type { UserId } from "@spaces/domain"
import type { ReadView } from "../store/Storage.js"
import type { Notification, NotificationRow, NotificationsPage } from "./Notification.js"
import {
  type Audience,
  BIG,
  INBOX,
  MEMBER_OF,
  MEMBERS,
  N_FOLLOWERS,
  NOTES,
  PUSH,
  PUSHERS,
  READ,
  rowId,
  STREAM
} from "./notificationsProjection.js"

export const DEFAULT_NOTIFICATIONS_LIMIT = 20
export const MAX_NOTIFICATIONS_LIMIT = 100

/**
 * One of a viewer's notifications: from their inbox, only its id (the row names it: its text is
 * read only if it is shown); from a stream, the notification itself.
 */
type Listed = number | NotificationRow

const idOf = (listed: Listed) => (typeof listed === "number" ? listed : listed.id)

/**
 * Every notification of `viewer`, newest first: their inbox merged with the streams of the large
 * audiences they are in (the big authors they follow, from when they followed; the Space audiences
 * they joined, except what they did themselves).
 */
const listOf = (view: ReadView, viewer: UserId): Array<Listed> => {
  // Inbox row ids are the notification ids, zero-padded.
  const listed: Array<Listed> = view.scan(INBOX, viewer).map(([id]) => Number(id))
  for (const [author] of view.scan(BIG, "")) {
    const since = view.get<number>(N_FOLLOWERS, author, viewer)
    if (since === undefined) continue
    for (const [, row] of view.scan<NotificationRow>(STREAM, author)) if (row.id > since) listed.push(row)
  }
  for (const [audience] of view.scan(MEMBER_OF, viewer))
    for (const [, row] of view.scan<NotificationRow>(STREAM, audience))
      if (row.actor !== viewer) listed.push(row)
  return listed.sort((a, b) => idOf(b) - idOf(a))
}

/** The notifications of `listed`, in its order (an inbox's read from `NOTES`). */
const rowsOf = (view: ReadView, listed: ReadonlyArray<Listed>): Array<NotificationRow> =>
  listed.flatMap((l) => {
    if (typeof l !== "number") return [l]
    const row = view.get<NotificationRow>(NOTES, "", rowId(l))
    return row === undefined ? [] : [row]
  })

/** Every notification of `viewer`, newest first (see `listOf`). */
export const allNotificationsOf = (view: ReadView, viewer: UserId): Array<NotificationRow> =>
  rowsOf(view, listOf(view, viewer))

export const readUpToOf = (view: ReadView, viewer: UserId) => view.get<number>(READ, viewer, "") ?? 0

const unreadOf = (listed: ReadonlyArray<Listed>, readUpTo: number) => {
  let unread = 0
  for (const l of listed) if (idOf(l) > readUpTo) unread++
  return unread
}

/** One page, older than `before` (newest first), with the unread count of the whole list. */
export const notificationsOf = (
  view: ReadView,
  viewer: UserId,
  options: { readonly before?: number; readonly limit?: number } = {}
): NotificationsPage => {
  const all = listOf(view, viewer)
  const readUpTo = readUpToOf(view, viewer)
  const limit = options.limit ?? DEFAULT_NOTIFICATIONS_LIMIT
  const before = options.before
  const older = before === undefined ? all : all.filter((l) => idOf(l) < before)
  const page = rowsOf(view, older.slice(0, limit))
  const withRead = (row: NotificationRow): Notification => ({ ...row, read: row.id <= readUpTo })
  return {
    notifications: page.map(withRead),
    nextCursor: older.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    unread: unreadOf(all, readUpTo),
    readUpTo
  }
}

/** `viewer`'s notifications newer than `after`, oldest first (a live stream's catch-up). */
export const notificationsAfter = (view: ReadView, viewer: UserId, after: number) => {
  const readUpTo = readUpToOf(view, viewer)
  return rowsOf(
    view,
    listOf(view, viewer).filter((l) => idOf(l) > after)
  )
    .reverse()
    .map((row): Notification => ({ ...row, read: row.id <= readUpTo }))
}

/** Whether a notification sent to `audience` reached `viewer` (the live streams' filter). */
export const reaches = (
  view: ReadView,
  audience: Audience,
  row: NotificationRow,
  viewer: UserId
): boolean => {
  switch (audience._tag) {
    case "Users":
      return audience.users.includes(viewer)
    case "Followers": {
      const since = view.get<number>(N_FOLLOWERS, audience.author, viewer)
      return since !== undefined && since < row.id
    }
    case "Members":
      return row.actor !== viewer && view.get(MEMBERS, audience.audience, viewer) !== undefined
  }
}

export interface StoredPushSubscription {
  readonly endpoint: string
  readonly p256dh: string
  readonly auth: string
}

export const pushSubscriptionsOf = (view: ReadView, user: UserId) =>
  view.scan<StoredPushSubscription>(PUSH, user).map(([, subscription]) => subscription)

/**
 * The recipients of a notification who have push subscriptions. A large audience is checked
 * against the (fewer) users with subscriptions rather than listed in full.
 */
export const pushRecipientsOf = (view: ReadView, audience: Audience, row: NotificationRow) => {
  if (audience._tag === "Users") return audience.users.filter((user) => view.scan(PUSH, user).length > 0)
  return view
    .scan(PUSHERS, "")
    .map(([user]) => user as UserId)
    .filter((user) => reaches(view, audience, row, user))
}

/** The notification queries of the read models (see `ReadModelsShape.notifications`). */
export interface NotificationQueries {
  readonly page: (
    user: UserId,
    options?: { readonly before?: number; readonly limit?: number }
  ) => Effect.Effect<NotificationsPage>
  /** Newer than `after`, oldest first. */
  readonly after: (user: UserId, after: number) => Effect.Effect<ReadonlyArray<Notification>>
  readonly unread: (user: UserId) => Effect.Effect<{ readonly unread: number; readonly readUpTo: number }>
  readonly reaches: (change: Notified, user: UserId) => Effect.Effect<boolean>
  readonly pushSubscriptions: (user: UserId) => Effect.Effect<ReadonlyArray<StoredPushSubscription>>
  readonly pushRecipients: (change: Notified) => Effect.Effect<ReadonlyArray<UserId>>
}

export interface Notified {
  readonly notification: NotificationRow
  readonly audience: Audience
}

export const notificationQueries = (view: ReadView): NotificationQueries => ({
  page: (user, options) => Effect.sync(() => notificationsOf(view, user, options)),
  after: (user, after) => Effect.sync(() => notificationsAfter(view, user, after)),
  unread: (user) =>
    Effect.sync(() => {
      const readUpTo = readUpToOf(view, user)
      return { unread: unreadOf(listOf(view, user), readUpTo), readUpTo }
    }),
  reaches: (change, user) => Effect.sync(() => reaches(view, change.audience, change.notification, user)),
  pushSubscriptions: (user) => Effect.sync(() => pushSubscriptionsOf(view, user)),
  pushRecipients: (change) => Effect.sync(() => pushRecipientsOf(view, change.audience, change.notification))
})
