import {
  decodeRecorded,
  type RecordedEvent,
  SpaceEvent,
  type SpaceEventTag,
  type SpaceId,
  Spaces,
  type UserId,
  isSpaceStream
} from "@spaces/domain"
import { Effect, Either, FiberMap, type Scope, Stream } from "effect"
import { ConnectionTracker } from "./ConnectionTracker.js"
import { makeGraceTimers } from "./graceTimers.js"

/** What the presence edge does for the routes: connections in, system leaves out. */
export interface Presence {
  /** Holds a room live stream of `user` for the scope's lifetime. */
  readonly holdStream: (spaceId: SpaceId, user: UserId) => Effect.Effect<void, never, Scope.Scope>
  /** A media transport of `user` was created; it counts until it closes. */
  readonly transportOpened: (spaceId: SpaceId, user: UserId, transportId: string) => Effect.Effect<void>
  readonly transportClosed: (transportId: string) => Effect.Effect<void>
  /** The (space, user) pairs whose disconnect grace is running, for tests and operators. */
  readonly pending: Effect.Effect<ReadonlyArray<readonly [SpaceId, UserId]>>
}

/** A room's media events, as far as presence cares: transports the media plane closed, the room gone. */
export type TransportEvent =
  | { readonly _tag: "TransportsClosed"; readonly transportIds: ReadonlyArray<string> }
  | { readonly _tag: "TransportLost"; readonly transportId: string }
  | { readonly _tag: "RoomClosed" | "MediaRestarted" }
  | { readonly _tag: "NewProducer" | "ProducerPaused" | "ProducerResumed" | "ProducerClosed" }

export interface PresenceOptions {
  /** How long all of a participant's connections must be gone before the system leaves them. */
  readonly graceMs: number
  /**
   * Where presence starts, awaited in the background (the read models may still be catching up):
   * the Spaces live then, whose participants get the grace from now, and the log after that
   * point (the process's log follower), whose joins arm the grace.
   */
  readonly startup: Effect.Effect<PresenceStart>
  /** A room's media events, when this server has media (transports closed under a user). */
  readonly mediaEvents?: (spaceId: SpaceId) => Stream.Stream<TransportEvent, unknown>
}

export interface PresenceStart {
  /** The live Spaces and who was in each, as the rooms view had them. */
  readonly liveAtStart: Iterable<{ readonly spaceId: SpaceId; readonly participants: ReadonlyArray<UserId> }>
  readonly log: Stream.Stream<RecordedEvent>
}

const decode = decodeRecorded(SpaceEvent)

/** The events that put someone in a room: if they hold no connection, their grace starts. */
const ENTERING: ReadonlySet<string> = new Set<SpaceEventTag>([
  "SpaceStarted",
  "ListenerJoined",
  "HostReturned"
])

const keyOf = (spaceId: SpaceId, user: UserId) => JSON.stringify([spaceId, user])

/**
 * Presence from connections (SPEC §1 Presence): a participant is connected while any of their
 * clients holds the room's live stream or a media transport. When the last one goes, a grace timer
 * starts; a connection within it cancels it (nothing is written); at its end the system issues
 * `DisconnectParticipant`, which the domain turns into a leave with the reason `disconnected` (or
 * nothing, if they left or were removed meanwhile).
 */
export const makePresence = (options: PresenceOptions) =>
  Effect.gen(function* () {
    const tracker = yield* ConnectionTracker
    const spaces = yield* Spaces

    const leave = (spaceId: SpaceId, user: UserId) =>
      Effect.gen(function* () {
        // A connection that opened as the timer fired wins.
        if (yield* tracker.isConnected(spaceId, user)) return
        const done = yield* spaces.execute({ _tag: "DisconnectParticipant", spaceId, user })
        if (done.events.length > 0)
          yield* Effect.logInfo("presence: left a disconnected participant").pipe(
            Effect.annotateLogs({ event: "presence.disconnected", spaceId, user })
          )
      }).pipe(
        Effect.catchAll((error) =>
          // The Space ended or never existed: there is no one to leave.
          error._tag === "SpaceHasEnded" ||
          error._tag === "WrongSpaceStatus" ||
          error._tag === "SpaceNotFound"
            ? Effect.void
            : Effect.logWarning("presence: could not leave a disconnected participant").pipe(
                Effect.annotateLogs({ event: "presence.leave_failed", spaceId, user, error: String(error) })
              )
        )
      )

    // A mass disconnect (a lost network) leaves a few at a time: their appends share commits
    // without flooding the store.
    const timers = yield* makeGraceTimers<readonly [SpaceId, UserId]>(options.graceMs, (due) =>
      Effect.forEach(due, ([spaceId, user]) => leave(spaceId, user), { concurrency: 16, discard: true })
    )
    /** Starts the grace of (space, user) unless it is running already. */
    const arm = (spaceId: SpaceId, user: UserId) => timers.arm(keyOf(spaceId, user), [spaceId, user])
    const disarm = (spaceId: SpaceId, user: UserId) => Effect.sync(() => timers.disarm(keyOf(spaceId, user)))
    const armUnlessConnected = (spaceId: SpaceId, user: UserId) =>
      Effect.flatMap(tracker.isConnected(spaceId, user), (connected) =>
        connected ? Effect.void : arm(spaceId, user)
      )

    // Connections come and go: the last one gone arms the grace, a new one cancels it.
    const changes = yield* tracker.changes
    yield* Stream.fromQueue(changes).pipe(
      Stream.runForEach((c) => (c.connected ? disarm(c.spaceId, c.user) : arm(c.spaceId, c.user))),
      Effect.forkScoped
    )

    const enteredWithoutConnection = (log: Stream.Stream<RecordedEvent>) =>
      log.pipe(
        Stream.filter((r) => isSpaceStream(r.streamId) && ENTERING.has(r.type)),
        Stream.runForEach((r) => {
          const decoded = decode(r)
          if (Either.isLeft(decoded)) return Effect.void
          const e = decoded.right
          if (e._tag === "SpaceStarted") return armUnlessConnected(e.spaceId, e.host)
          if (e._tag === "ListenerJoined" || e._tag === "HostReturned")
            return armUnlessConnected(e.spaceId, e.user)
          return Effect.void
        })
      )

    yield* Effect.forkScoped(
      Effect.gen(function* () {
        const { liveAtStart, log } = yield* options.startup
        // After a restart nobody is connected yet: everyone recorded in a live room gets the grace
        // from now (clients reconnect within it), never an instant mass leave.
        for (const { spaceId, participants } of liveAtStart)
          for (const user of participants) yield* armUnlessConnected(spaceId, user)
        // Someone entering a room without a connection (an API client that never opens the stream).
        yield* enteredWithoutConnection(log)
      })
    )

    // Media transports: counted from creation until the client closes them or the plane does.
    const transports = new Map<string, SpaceId>()
    const watchers = yield* FiberMap.make<SpaceId>()
    const closeAllOf = (spaceId: SpaceId) =>
      Effect.forEach(
        [...transports].filter(([, s]) => s === spaceId).map(([id]) => id),
        (id) => transportClosed(id),
        { discard: true }
      )
    const transportClosed = (transportId: string) =>
      Effect.suspend(() => {
        transports.delete(transportId)
        return tracker.close(`transport:${transportId}`)
      })
    const watch = (spaceId: SpaceId, events: NonNullable<PresenceOptions["mediaEvents"]>) =>
      events(spaceId).pipe(
        Stream.runForEach((e) =>
          e._tag === "TransportsClosed"
            ? Effect.forEach(e.transportIds, transportClosed, { discard: true })
            : e._tag === "TransportLost"
              ? transportClosed(e.transportId)
              : e._tag === "RoomClosed" || e._tag === "MediaRestarted"
                ? closeAllOf(spaceId)
                : Effect.void
        ),
        Effect.ignore,
        // However the room's events end, its transports are gone with it.
        Effect.zipRight(Effect.suspend(() => closeAllOf(spaceId)))
      )

    return {
      holdStream: (spaceId, user) =>
        Effect.acquireRelease(
          Effect.sync(() => `stream:${crypto.randomUUID()}`).pipe(
            Effect.tap((key) => tracker.open(key, spaceId, user))
          ),
          (key) => tracker.close(key)
        ).pipe(Effect.asVoid),
      transportOpened: (spaceId, user, transportId) =>
        Effect.gen(function* () {
          transports.set(transportId, spaceId)
          yield* tracker.open(`transport:${transportId}`, spaceId, user)
          const events = options.mediaEvents
          if (events !== undefined)
            yield* FiberMap.run(watchers, spaceId, watch(spaceId, events), { onlyIfMissing: true })
        }),
      transportClosed,
      pending: Effect.sync(timers.pending)
    } satisfies Presence
  })
