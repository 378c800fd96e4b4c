import {
  CommitSignal,
  defaultRoomRules,
  type EventStore,
  logFollowerOrOwn,
  type RoomRules,
  Rules
} from "@spaces/domain"
import { Effect, Layer, Option, PubSub, Stream } from "effect"
import { CREATOR, creatorOf, creatorProjection } from "./creator/creatorProjection.js"
import { FEED, type FeedOptions, feedProjection } from "./feed/feedProjection.js"
import { DEFAULT_FEED_LIMIT, feedOf } from "./feed/feedQuery.js"
import {
  NOTIFICATIONS,
  type NotificationsOptions,
  notificationsProjection
} from "./notifications/notificationsProjection.js"
import { notificationQueries } from "./notifications/notificationsQuery.js"
import { ReadModels, type ReadModelsShape, type ViewChange, type ViewName } from "./ReadModels.js"
import { ROOMS } from "./room/RoomDoc.js"
import { roomView } from "./room/roomQueries.js"
import { roomsProjection } from "./room/roomsProjection.js"
import type { Projection } from "./runner/Projection.js"
import { makeRunners, type Runner } from "./runner/Runner.js"
import { dueOf, remindersOf, SCHEDULE, scheduleProjection } from "./schedule/scheduleProjection.js"
import { makeMemoryStorage } from "./store/MemoryStorage.js"
import { makeSqliteStorage } from "./store/SqliteStorage.js"
import { queryOf, type ReadView, type Storage } from "./store/Storage.js"
import { searchOf, topicOf } from "./topics/topicQueries.js"
import { TOPICS, topicsProjection } from "./topics/topicsProjection.js"

export interface ReadModelsOptions extends FeedOptions {
  readonly notifications?: NotificationsOptions
  /** The expiry delay of scheduled Spaces; default: the `Rules` service if provided, else SPEC's. */
  readonly rules?: Pick<RoomRules, "scheduledExpiryMs">
  /** The runners' pause after a live batch (default `LIVE_BATCH_MS`; 0: none). */
  readonly liveBatchMs?: number
}

/** Every projection the read models need, in the order their runners start. */
export const projections = (
  options: FeedOptions & { readonly notifications?: NotificationsOptions } = {}
): ReadonlyArray<Projection> => [
  roomsProjection,
  feedProjection(options),
  topicsProjection,
  creatorProjection,
  scheduleProjection,
  notificationsProjection(options.notifications)
]

/** The projections each query reads (see `queriesOf`): what a read-your-writes wait waits for. */
export const projectionsRead: Record<ViewName, ReadonlyArray<string>> = {
  feed: [FEED, ROOMS],
  topic: [TOPICS, ROOMS],
  search: [TOPICS, ROOMS],
  creator: [CREATOR, ROOMS],
  room: [ROOMS],
  reminders: [SCHEDULE, ROOMS],
  due: [SCHEDULE],
  notifications: [NOTIFICATIONS]
}

/** The queries over a storage, whoever keeps it up to date (the runners, or a test's rebuild). */
export const queriesOf = (storage: Storage, rules: Pick<RoomRules, "scheduledExpiryMs">) => {
  /** One query over the storage's query views (parsed rows kept between queries where it can). */
  const reading = <A>(read: (view: (projection: string) => ReadView) => A) =>
    Effect.sync(() => queryOf(storage, read))
  const feedNow: ReadModelsShape["feedNow"] = (user, options) =>
    queryOf(storage, (view) => feedOf(view(FEED), view(ROOMS), user, options?.limit ?? DEFAULT_FEED_LIMIT))
  return {
    feed: (user: Parameters<ReadModelsShape["feed"]>[0], options?: { readonly limit?: number }) =>
      Effect.sync(() => feedNow(user, options)),
    feedNow,
    topic: (topic: Parameters<ReadModelsShape["topic"]>[0]) =>
      reading((view) => topicOf(view(TOPICS), view(ROOMS), topic)),
    search: (query: Parameters<ReadModelsShape["search"]>[0]) =>
      reading((view) => searchOf(view(TOPICS), view(ROOMS), query)),
    creator: (user: Parameters<ReadModelsShape["creator"]>[0]) =>
      reading((view) => creatorOf(view(CREATOR), view(ROOMS), user)),
    room: (spaceId: Parameters<ReadModelsShape["room"]>[0]) =>
      reading((view) => roomView(view(ROOMS), spaceId)),
    reminders: (user: Parameters<ReadModelsShape["reminders"]>[0]) =>
      reading((view) => remindersOf(view(SCHEDULE), view(ROOMS), user)),
    due: (now: number) => reading((view) => dueOf(view(SCHEDULE), rules, now)),
    notifications: notificationQueries(storage.projection(NOTIFICATIONS).read)
  } satisfies Partial<ReadModelsShape>
}

/**
 * The read models over `storage`, their runners forked in the current scope (interrupted when it
 * closes). Exposed for tests and the CLI; applications use `ReadModelsLive`.
 */
export const makeReadModels = (storage: Storage, options: ReadModelsOptions = {}) =>
  Effect.gen(function* () {
    // The process's one log follower (`LogFollowerLive` in the composition root), else one of our own.
    const log = yield* logFollowerOrOwn
    const rules =
      options.rules ?? Option.getOrElse(yield* Effect.serviceOption(Rules), () => defaultRoomRules)
    const changes = yield* PubSub.unbounded<ViewChange>()
    // Notified by every runner's batch and stop: waits re-check their views then. A plain signal,
    // not a SubscriptionRef: its lock would make the runners' loops hog the scheduler.
    const progress = new CommitSignal()
    const progressed = () => progress.notify()
    const all = projections(options)
    // The follower reads ahead from the furthest checkpoint to find the log's end (the runners'
    // lag); a runner behind it (a rebuild) reads the store directly.
    yield* log.start(Math.max(0, ...all.map((p) => storage.projection(p.name).checkpoint()?.position ?? 0)))
    const { runners, run } = makeRunners({
      projections: all,
      storage,
      log,
      ...(options.liveBatchMs === undefined ? {} : { liveBatchMs: options.liveBatchMs }),
      publish: (batch) =>
        batch.length === 0 ? Effect.void : Effect.asVoid(PubSub.publishAll(changes, batch)),
      progressed
    })
    const runnersOf = (view: ViewName) =>
      runners.filter((r) => projectionsRead[view].includes(r.projection.name))
    const lowest = (of: ReadonlyArray<Runner>) => Math.min(...of.map((r) => r.cursor.position))
    /** true: `view` includes `position`; false: a runner it reads stopped short of it; else undefined. */
    const reached = (view: ViewName, position: number) => {
      const of = runnersOf(view)
      if (lowest(of) >= position) return true
      return of.some((r) => r.status().state === "failed") ? false : undefined
    }
    yield* Effect.forkScoped(run)

    return ReadModels.of({
      ...queriesOf(storage, rules),
      changes: Stream.fromPubSub(changes),
      position: Effect.sync(() => lowest(runners)),
      positionOf: (view) => Effect.sync(() => lowest(runnersOf(view))),
      awaitPosition: (view, position) => {
        const check: Effect.Effect<boolean> = Effect.suspend(() => {
          // The wake-up is taken before the check, so that progress in between is not missed.
          const wake = progress.nextCommit()
          const verdict = reached(view, position)
          return verdict === undefined ? Effect.zipRight(wake, check) : Effect.succeed(verdict)
        })
        return check
      },
      status: Effect.sync(() => runners.map((r) => r.status()))
    })
  })

/**
 * `ReadModels` layers. Both need an `EventStore` (and use `Rules` and the process's `LogFollower`
 * if provided; without one they follow the log on their own); their runners run as fibers of the
 * layer's scope and stop when it closes.
 */
export const ReadModelsLive = {
  /** In memory: for tests and embedding; every build starts empty and replays the log. */
  memory: (options: ReadModelsOptions = {}): Layer.Layer<ReadModels, never, EventStore> =>
    Layer.scoped(
      ReadModels,
      Effect.suspend(() => makeReadModels(makeMemoryStorage(), options))
    ),
  /**
   * In a SQLite file of their own (see `SqliteStorage`): they resume from their checkpoints after a
   * restart, and rebuild a projection whose version changed.
   */
  sqlite: (
    options: { readonly path: string } & ReadModelsOptions
  ): Layer.Layer<ReadModels, never, EventStore> =>
    Layer.scoped(
      ReadModels,
      Effect.flatMap(
        Effect.acquireRelease(
          Effect.sync(() => makeSqliteStorage({ path: options.path })),
          (storage) => Effect.sync(storage.close)
        ),
        (storage) => makeReadModels(storage, options)
      )
    )
}
