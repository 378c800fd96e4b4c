import { Context, type Effect, type Option, type Stream } from "effect"
import type { SpaceId, TopicSlug, UserId } from "@spaces/domain"
import type { NotificationQueries, Notified } from "./notifications/notificationsQuery.js"
import type {
  CreatorView,
  DueCommand,
  FeedEntry,
  RoomView,
  RunnerStatus,
  ScheduledSpaceSummary,
  SearchResults,
  TopicView
} from "./views.js"

/** Which views a change of the log touched: the HTTP port pushes them to live subscribers. */
export type ViewChange =
  /** The feeds of these users (or everyone's) changed: a Space entered or left them, or moved in them. */
  | { readonly _tag: "Feed"; readonly users: ReadonlyArray<UserId> | "all" }
  /**
   * What the feeds show of these live Spaces changed (listener count, speakers, title): every feed
   * that lists one of them changed. Named by Space, not by viewer: a big room's viewers are its
   * participants' followers, far too many to list on every join, and a subscriber knows which
   * Spaces its own feed lists (see `feedChanged`).
   */
  | { readonly _tag: "FeedSpaces"; readonly spaceIds: ReadonlyArray<SpaceId> }
  | { readonly _tag: "Room"; readonly spaceId: SpaceId }
  | { readonly _tag: "Topic"; readonly topics: ReadonlyArray<TopicSlug> }
  | { readonly _tag: "Creator"; readonly user: UserId }
  /** A notification was written for an audience (see `notificationsProjection`). */
  | ({ readonly _tag: "Notified" } & Notified)
  /** `user` marked notifications read: their unread count changed. */
  | { readonly _tag: "NotificationsRead"; readonly user: UserId }

/**
 * Whether `change` changed the feed of `viewer`, whose feed (all of it, not only the entries
 * shown: a Space below the cut can climb into it) lists `listed`.
 */
export const feedChanged = (change: ViewChange, viewer: UserId, listed: ReadonlySet<string>): boolean => {
  switch (change._tag) {
    case "Feed":
      return change.users === "all" || change.users.includes(viewer)
    case "FeedSpaces":
      return change.spaceIds.some((spaceId) => listed.has(spaceId))
    default:
      return false
  }
}

/** The queries of the read models, by name: each reads some of the projections (see `ReadModelsLive`). */
export type ViewName =
  | "feed"
  | "topic"
  | "search"
  | "creator"
  | "room"
  | "reminders"
  | "due"
  | "notifications"

/** The query side of the product: what people see, kept up to date from the event log. */
export interface ReadModelsShape {
  /** The live bar of `user`, ranked as SPEC §2 says. */
  readonly feed: (
    user: UserId,
    options?: { readonly limit?: number }
  ) => Effect.Effect<ReadonlyArray<FeedEntry>>
  /**
   * `feed`'s answer, computed at once (a synchronous read of the views): for a caller on a hot
   * path that would otherwise run an effect for nothing but this read (`GET /v1/feed`).
   */
  readonly feedNow: (user: UserId, options?: { readonly limit?: number }) => ReadonlyArray<FeedEntry>
  readonly topic: (topic: TopicSlug) => Effect.Effect<TopicView>
  readonly search: (query: {
    readonly text?: string
    readonly topic?: TopicSlug
  }) => Effect.Effect<SearchResults>
  readonly creator: (user: UserId) => Effect.Effect<CreatorView>
  readonly room: (spaceId: SpaceId) => Effect.Effect<Option.Option<RoomView>>
  /** Scheduled Spaces `user` set a reminder on, soonest first. */
  readonly reminders: (user: UserId) => Effect.Effect<ReadonlyArray<ScheduledSpaceSummary>>
  /** System commands due at or before `now` (the scheduler issues them). */
  readonly due: (now: number) => Effect.Effect<ReadonlyArray<DueCommand>>
  /** A user's notifications, unread count and push subscriptions. */
  readonly notifications: NotificationQueries
  /** Every view change, as the runners apply events; live, never-ending. */
  readonly changes: Stream.Stream<ViewChange>
  /** The global position up to which every view is applied. */
  readonly position: Effect.Effect<number>
  /** The global position up to which the projections that `view` reads are applied. */
  readonly positionOf: (view: ViewName) => Effect.Effect<number>
  /**
   * Read-your-writes: waits until `view` includes `position` (true), or until a projection it
   * reads has stopped on an event it cannot apply (false: it gets no further before a restart).
   * Wakes on the runners' progress, without polling, and only for the projections `view` reads;
   * not bounded: callers add their own timeout.
   */
  readonly awaitPosition: (view: ViewName, position: number) => Effect.Effect<boolean>
  readonly status: Effect.Effect<ReadonlyArray<RunnerStatus>>
}

export class ReadModels extends Context.Tag("@spaces/projections/ReadModels")<
  ReadModels,
  ReadModelsShape
>() {}
