import type { SpaceId, UserId } from "@spaces/domain"
import type { ViewChange } from "../ReadModels.js"
import type { DomainEvent, DomainEventTag, Projection } from "../runner/Projection.js"
import { spaceEventsReadBy } from "../spaceEventReaders.js"
import type { Tx } from "../store/Storage.js"
import { linkOf, type NotificationKind, type NotificationRow } from "./Notification.js"

/**
 * Per-user notifications, with the live bar's hybrid fan-out.
 *
 * A notification goes to an audience: one user, an author's followers, or the people of a Space
 * (its reminder holders, the people who took part). An audience smaller than `fanOutThreshold` gets
 * one inbox row per member (at most the threshold: the write cost is bounded). A larger one gets one
 * row in the audience's own stream, which readers merge at read time: an author's stream for those
 * who follow them (the few big authors are listed in `BIG`), a Space audience's stream for its
 * members (who find it through their own `MEMBER_OF` rows, written when they joined the audience).
 * So a host with 200,000 followers going live costs one row, like a host with ten followers costs ten.
 *
 * Ids come from a counter in the read model itself: the same log always numbers the same
 * notifications the same way, so a rebuild gives the same ids (and read marks stay meaningful).
 */
export const NOTIFICATIONS = "notifications"
const SEQ = "seq"
/** followee → follower → the last notification id when they followed (stream rows after it are theirs). */
export const N_FOLLOWERS = "followers"
export const N_FOLLOWER_COUNT = "followerCount"
/** "" → authors whose notifications were ever written to their stream (the readers merge them). */
export const BIG = "big"
/** audience (an author, or `<spaceId> <role>`) → id → the notification, for a large audience. */
export const STREAM = "stream"
/**
 * user → id → 1, for a small audience: the member's row names the notification, which is stored
 * once in `NOTES` (a copy per member made a rebuild write each notification up to 2,000 times).
 */
export const INBOX = "inbox"
/** "" → id → the notification, for those in members' inboxes (a large audience's is in its stream). */
export const NOTES = "notes"
/** `<spaceId> <role>` → user → 1: the Space audiences (reminder holders, participants). */
export const MEMBERS = "members"
export const MEMBER_COUNT = "memberCount"
/** user → `<spaceId> <role>` → 1: the audiences a user is in (read for their streams). */
export const MEMBER_OF = "memberOf"
/** user → "" → the newest id marked read. */
export const READ = "read"
/** user → endpoint → the Web Push subscription. */
export const PUSH = "push"
/** "" → user → 1: everyone with a push subscription (the pusher checks big audiences against them). */
export const PUSHERS = "pushers"
/** spaceId → "" → what notifications say of a Space. */
const SPACE = "space"
/** spaceId → user → 1: who is on stage (speakers and co-hosts, not the host). */
const STAGE = "stage"

interface SpaceInfo {
  readonly title: string
  readonly host: UserId
  readonly recording: boolean
  readonly live: boolean
  /** Recording was on at some point while live. */
  readonly recorded: boolean
}

export const DEFAULT_NOTIFY_FAN_OUT_THRESHOLD = 2_000

/** Ids are stored zero-padded, so that rows sort by id wherever keys are ordered. */
export const rowId = (id: number) => String(id).padStart(16, "0")
export const remindersOf = (spaceId: SpaceId) => `${spaceId} reminders`
export const participantsOf = (spaceId: SpaceId) => `${spaceId} participants`

/** Who a notification went to: the pusher and the live streams resolve it. */
export type Audience =
  | { readonly _tag: "Users"; readonly users: ReadonlyArray<UserId> }
  /** An author's followers who followed before the notification (its stream). */
  | { readonly _tag: "Followers"; readonly author: UserId }
  /** A Space audience's members except the notification's actor (its stream). */
  | { readonly _tag: "Members"; readonly audience: string }

export interface NotificationsOptions {
  /** Audiences from this size on get one stream row instead of a row per member. */
  readonly fanOutThreshold?: number
}

type Emit = (change: ViewChange) => void

export const notificationsProjection = (options: NotificationsOptions = {}): Projection => {
  const threshold = options.fanOutThreshold ?? DEFAULT_NOTIFY_FAN_OUT_THRESHOLD

  const next = (tx: Tx) => {
    const id = (tx.get<number>(SEQ, "", "") ?? 0) + 1
    tx.put(SEQ, "", "", id)
    return id
  }

  const spaceOf = (tx: Tx, spaceId: SpaceId) => tx.get<SpaceInfo>(SPACE, spaceId, "")

  const make = (
    tx: Tx,
    kind: NotificationKind,
    spaceId: SpaceId,
    actor: UserId | null,
    at: number,
    extra: Partial<Pick<NotificationRow, "scheduledFor" | "recorded" | "text">> = {}
  ): NotificationRow => ({
    id: next(tx),
    kind,
    spaceId,
    title: spaceOf(tx, spaceId)?.title ?? "",
    actor,
    at,
    link: linkOf(kind, spaceId),
    ...extra
  })

  /** Stores `row` once, and a row naming it in the inbox of each of `members`. */
  const toInboxes = (tx: Tx, row: NotificationRow, members: ReadonlyArray<UserId>) => {
    // One id string for every member's row: made (and hashed) once, not per member.
    const id = rowId(row.id)
    tx.put(NOTES, "", id, row)
    for (const member of members) tx.put(INBOX, member, id, 1)
  }

  const toUser = (tx: Tx, emit: Emit, user: UserId, row: NotificationRow) => {
    toInboxes(tx, row, [user])
    emit({ _tag: "Notified", notification: row, audience: { _tag: "Users", users: [user] } })
  }

  const toFollowers = (tx: Tx, emit: Emit, author: UserId, build: () => NotificationRow) => {
    const count = tx.get<number>(N_FOLLOWER_COUNT, author, "") ?? 0
    if (count === 0) return
    const row = build()
    if (count < threshold) {
      const followers = tx.scan<number>(N_FOLLOWERS, author).map(([f]) => f as UserId)
      toInboxes(tx, row, followers)
      emit({ _tag: "Notified", notification: row, audience: { _tag: "Users", users: followers } })
    } else {
      tx.put(STREAM, author, rowId(row.id), row)
      tx.put(BIG, "", author, 1)
      emit({ _tag: "Notified", notification: row, audience: { _tag: "Followers", author } })
    }
  }

  const join = (tx: Tx, audience: string, user: UserId) => {
    if (tx.get(MEMBERS, audience, user) !== undefined) return
    tx.put(MEMBERS, audience, user, 1)
    tx.put(MEMBER_OF, user, audience, 1)
    tx.put(MEMBER_COUNT, audience, "", (tx.get<number>(MEMBER_COUNT, audience, "") ?? 0) + 1)
  }

  const part = (tx: Tx, audience: string, user: UserId) => {
    if (tx.get(MEMBERS, audience, user) === undefined) return
    tx.del(MEMBERS, audience, user)
    tx.del(MEMBER_OF, user, audience)
    const count = (tx.get<number>(MEMBER_COUNT, audience, "") ?? 1) - 1
    if (count <= 0) tx.del(MEMBER_COUNT, audience, "")
    else tx.put(MEMBER_COUNT, audience, "", count)
  }

  /** Drops a small audience (its members' rows); a large one stays: its members read its stream. */
  const close = (tx: Tx, audience: string) => {
    if ((tx.get<number>(MEMBER_COUNT, audience, "") ?? 0) >= threshold) return
    for (const [user] of tx.scan(MEMBERS, audience)) part(tx, audience, user as UserId)
  }

  /** Notifies a Space audience (but not the notification's actor), then closes it. */
  const toMembers = (tx: Tx, emit: Emit, audience: string, build: () => NotificationRow) => {
    const count = tx.get<number>(MEMBER_COUNT, audience, "") ?? 0
    if (count === 0) return
    const row = build()
    if (count < threshold) {
      const members = tx
        .scan(MEMBERS, audience)
        .map(([user]) => user as UserId)
        .filter((user) => user !== row.actor)
      if (members.length > 0) {
        toInboxes(tx, row, members)
        emit({ _tag: "Notified", notification: row, audience: { _tag: "Users", users: members } })
      }
      close(tx, audience)
    } else {
      tx.put(STREAM, audience, rowId(row.id), row)
      emit({ _tag: "Notified", notification: row, audience: { _tag: "Members", audience } })
    }
  }

  const follow = (tx: Tx, follower: UserId, followee: UserId, follows: boolean) => {
    if ((tx.get(N_FOLLOWERS, followee, follower) !== undefined) === follows) return
    const count = tx.get<number>(N_FOLLOWER_COUNT, followee, "") ?? 0
    if (follows) {
      // Stream rows after this id are theirs: they followed before those were written.
      tx.put(N_FOLLOWERS, followee, follower, tx.get<number>(SEQ, "", "") ?? 0)
      tx.put(N_FOLLOWER_COUNT, followee, "", count + 1)
    } else {
      tx.del(N_FOLLOWERS, followee, follower)
      if (count <= 1) tx.del(N_FOLLOWER_COUNT, followee, "")
      else tx.put(N_FOLLOWER_COUNT, followee, "", count - 1)
    }
  }

  const setSpace = (tx: Tx, spaceId: SpaceId, change: Partial<SpaceInfo>) => {
    const info = spaceOf(tx, spaceId)
    if (info !== undefined) tx.put(SPACE, spaceId, "", { ...info, ...change } satisfies SpaceInfo)
  }

  const onStage = (tx: Tx, emit: Emit, spaceId: SpaceId, user: UserId, at: number) => {
    if (tx.get(STAGE, spaceId, user) !== undefined || spaceOf(tx, spaceId)?.host === user) return
    tx.put(STAGE, spaceId, user, 1)
    toFollowers(tx, emit, user, () => make(tx, "on-stage", spaceId, user, at))
  }

  const step = (tx: Tx, event: DomainEvent, emit: Emit) => {
    switch (event._tag) {
      case "UserFollowed":
        return follow(tx, event.user, event.followee, true)
      case "UserUnfollowed":
        return follow(tx, event.user, event.followee, false)
      case "NotificationsRead":
        if (event.upTo > (tx.get<number>(READ, event.user, "") ?? 0)) tx.put(READ, event.user, "", event.upTo)
        emit({ _tag: "NotificationsRead", user: event.user })
        return
      case "PushSubscribed":
        tx.put(PUSH, event.user, event.endpoint, {
          endpoint: event.endpoint,
          p256dh: event.p256dh,
          auth: event.auth
        })
        tx.put(PUSHERS, "", event.user, 1)
        return
      case "PushUnsubscribed":
        tx.del(PUSH, event.user, event.endpoint)
        if (tx.scan(PUSH, event.user).length === 0) tx.del(PUSHERS, "", event.user)
        return
      case "SpaceCreated":
        tx.put(SPACE, event.spaceId, "", {
          title: event.title,
          host: event.host,
          recording: event.recording,
          live: false,
          recorded: false
        } satisfies SpaceInfo)
        if (event.scheduledFor !== null) {
          const scheduledFor = event.scheduledFor
          toFollowers(tx, emit, event.host, () =>
            make(tx, "space-scheduled", event.spaceId, event.host, event.at, { scheduledFor })
          )
        }
        return
      case "SpaceEdited":
        return setSpace(tx, event.spaceId, { title: event.title })
      case "RecordingChanged": {
        const info = spaceOf(tx, event.spaceId)
        if (info === undefined) return
        return setSpace(tx, event.spaceId, {
          recording: event.recording,
          recorded: info.recorded || (info.live && event.recording)
        })
      }
      case "ReminderSet":
        return join(tx, remindersOf(event.spaceId), event.user)
      case "ReminderRemoved":
        return part(tx, remindersOf(event.spaceId), event.user)
      case "SpaceStarted": {
        const info = spaceOf(tx, event.spaceId)
        setSpace(tx, event.spaceId, { live: true, recorded: info?.recording === true })
        join(tx, participantsOf(event.spaceId), event.host)
        toFollowers(tx, emit, event.host, () =>
          make(tx, "space-started", event.spaceId, event.host, event.at)
        )
        return toMembers(tx, emit, remindersOf(event.spaceId), () =>
          make(tx, "reminder-started", event.spaceId, event.host, event.at)
        )
      }
      case "SpaceCancelled":
      case "SpaceExpired":
        return close(tx, remindersOf(event.spaceId))
      case "ListenerJoined":
        return join(tx, participantsOf(event.spaceId), event.user)
      case "SpeakRequestApproved":
        toUser(tx, emit, event.user, make(tx, "request-approved", event.spaceId, event.by, event.at))
        return onStage(tx, emit, event.spaceId, event.user, event.at)
      case "SpeakRequestDeclined":
        return toUser(tx, emit, event.user, make(tx, "request-declined", event.spaceId, event.by, event.at))
      case "SpeakerInvited":
        return toUser(tx, emit, event.user, make(tx, "speaker-invited", event.spaceId, event.by, event.at))
      case "CoHostInvited":
        return toUser(tx, emit, event.user, make(tx, "cohost-invited", event.spaceId, event.by, event.at))
      case "SpeakerInviteAccepted":
      case "CoHostInviteAccepted":
        return onStage(tx, emit, event.spaceId, event.user, event.at)
      case "SteppedDown":
      case "ParticipantLeft":
      case "HostLeft":
        return tx.del(STAGE, event.spaceId, event.user)
      case "ParticipantRemoved":
        tx.del(STAGE, event.spaceId, event.user)
        return toUser(tx, emit, event.user, make(tx, "removed", event.spaceId, event.by, event.at))
      case "SpaceEnded": {
        const info = spaceOf(tx, event.spaceId)
        for (const [user] of tx.scan(STAGE, event.spaceId)) tx.del(STAGE, event.spaceId, user)
        setSpace(tx, event.spaceId, { live: false })
        // The host ending it is its actor; the system (host absent) or an operator is not a user here.
        const actor = event.reason === "host" ? (event.by as UserId) : null
        return toMembers(tx, emit, participantsOf(event.spaceId), () =>
          make(tx, "space-ended", event.spaceId, actor, event.at, { recorded: info?.recorded === true })
        )
      }
      case "PostPublished":
        return toFollowers(tx, emit, event.author, () =>
          make(tx, "space-shared", event.spaceId, event.author, event.at, { text: event.text })
        )
    }
  }

  return {
    name: NOTIFICATIONS,
    // 2: inbox rows name the notification, stored once in NOTES (was: a copy of it per member).
    version: 2,
    handles: new Set<DomainEventTag>([
      "UserFollowed",
      "UserUnfollowed",
      "NotificationsRead",
      "PushSubscribed",
      "PushUnsubscribed",
      ...spaceEventsReadBy("notifications")
    ]),
    step
  }
}
