import { Chunk, Clock, Context, Effect, Layer, PubSub, Queue, Schedule, type Scope, Stream } from "effect"
import { EventStore, type EventStoreShape, type ReadError, type RecordedEvent } from "./EventStore.js"
import type { MalformedEvent } from "./EventStoreError.js"
import { CommitSignal } from "./liveTail.js"

/** The end of the log as far as the follower has read it. */
export interface LogHead {
  readonly position: number
  /** When the event at `position` was recorded (null before the follower has read one). */
  readonly at: number | null
  /**
   * The follower has read to the end of the log once. Until then nobody can tell a consumer with
   * nothing left to read from one that has not been told about the rest.
   */
  readonly known: boolean
}

/**
 * The one retry policy of a process's log reading: 100 ms, doubling, at most 5 s apart, forever.
 * A store outage delays delivery; it never ends a consumer's stream.
 */
export const logRetryPolicy: Schedule.Schedule<unknown, unknown> = Schedule.exponential("100 millis").pipe(
  Schedule.union(Schedule.spaced("5 seconds"))
)

/**
 * One follower of the global log per process, feeding every in-process consumer (projection
 * runners, live streams, the media glue, presence, captions). It holds the one subscription to the
 * store and the one retry policy; each consumer keeps its own position.
 */
export interface LogFollowerShape {
  /**
   * Every event after `from` (exclusive), in commit order, then live, forever, in chunks (a page
   * read, or what the follower delivered since the last pull). A consumer behind the follower
   * reads the store directly (pulled, so a rebuild never piles events up in memory), then joins the
   * follower's live feed. Store outages are retried under `logRetryPolicy` from where the stream
   * got to; the stream fails only with a `MalformedEvent` the store cannot parse (retrying would
   * read it again). The first call starts the follower at `from` (unless `start` did).
   */
  readonly from: (from: number) => Stream.Stream<RecordedEvent, MalformedEvent>
  /**
   * `from`, waiting out a malformed event too (re-reading under the same policy until the log is
   * corrected), for consumers that have nothing better to do than wait: never fails.
   */
  readonly follow: (from: number) => Stream.Stream<RecordedEvent>
  /**
   * The events the follower delivers after this subscription is taken (a live stream pairs it with
   * a read of the store for what came before, and drops the duplicates by position).
   */
  readonly live: Effect.Effect<Queue.Dequeue<RecordedEvent>, never, Scope.Scope>
  /**
   * Starts the follower at `from` if it has not started yet: a hint of where the log's end is
   * (the furthest checkpoint), so that it reads only the tail after it to find the end.
   */
  readonly start: (from: number) => Effect.Effect<void>
  readonly head: () => LogHead
  /** Waits until the follower has read to the end of the log once (it must have been started), and answers its head. */
  readonly known: Effect.Effect<LogHead>
}

export class LogFollower extends Context.Tag("@spaces/domain/LogFollower")<LogFollower, LogFollowerShape>() {}

const isUnavailable = (error: ReadError) => error._tag === "EventStoreUnavailable"
/** The policy, for store outages only: a malformed event is read again the same way, however often. */
const outagesOnly: Schedule.Schedule<unknown, ReadError> = Schedule.whileInput(logRetryPolicy, isUnavailable)

/**
 * Runs `effect` again under the one policy while the store is unavailable; other errors go through.
 * The policy never gives up, so an `EventStoreUnavailable` cannot come out.
 */
const retryingOutages = <A>(effect: Effect.Effect<A, ReadError>): Effect.Effect<A, MalformedEvent> =>
  effect.pipe(
    Effect.tapError((error) =>
      isUnavailable(error)
        ? Effect.logWarning("log follower: reading the log failed; retrying", error)
        : Effect.void
    ),
    Effect.retry(outagesOnly),
    Effect.catchTag("EventStoreUnavailable", (error) => Effect.die(error))
  )

/** Reads the store from `cursor.last` to the end, resuming there after an outage. */
const readFrom = (
  store: EventStoreShape,
  cursor: { last: number }
): Stream.Stream<RecordedEvent, MalformedEvent> =>
  Stream.suspend(() => store.readAll(cursor.last)).pipe(
    Stream.filter((event) => event.position > cursor.last),
    Stream.tapError((error) =>
      isUnavailable(error)
        ? Effect.logWarning("log follower: reading the log failed; retrying", error)
        : Effect.void
    ),
    Stream.mapChunks((chunk) => {
      const tail = Chunk.last(chunk)
      if (tail._tag === "Some") cursor.last = tail.value.position
      return chunk
    }),
    Stream.retry(outagesOnly),
    Stream.catchTag("EventStoreUnavailable", (error) => Stream.die(error))
  )

/**
 * Live, after delivering a short chunk (the log's end), how long the follower lets new commits
 * gather before it reads the log again: under a burst of commands each group commit would
 * otherwise be one read, one delivery and one wake-up of every consumer (the projections' batch
 * with its transactions among them). Real time, not the Effect `Clock` (a test's `TestClock`
 * must not hold the log back). A commit after a quiet spell is delivered at once.
 */
export const GATHER_MS = 40
/** A chunk this long or longer is a backlog being read: no pause, read on. */
const GATHER_BELOW = 512
/**
 * Sleeps `ms` on Effect's live clock, whatever clock the fiber has: for a pause of delivery (not a
 * domain decision), which a test's `TestClock` must not hold back. Interruptible.
 */
export const sleepRealTime = (ms: number): Effect.Effect<void> =>
  Effect.withClock(Effect.sleep(ms), Clock.make())

/** Events delivered per pull at most, so that one pull of a long backlog stays a bounded batch. */
const MAX_CHUNK = 8192

/**
 * The follower over `store`, its fiber in the current scope. It starts at the first `from` call
 * (the projection runners, from their lowest checkpoint): it reads to the end of the log once,
 * which makes the head known, then subscribes after it and publishes every event to the live
 * consumers.
 */
export const makeLogFollower = (
  store: EventStoreShape,
  options: {
    /** The pause after a delivery at the log's end (default `GATHER_MS`; 0: none). */
    readonly gatherMs?: number
  } = {}
): Effect.Effect<LogFollowerShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const gatherMs = options.gatherMs ?? GATHER_MS
    const gatherPause = sleepRealTime(gatherMs)
    const scope = yield* Effect.scope
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<RecordedEvent>(), PubSub.shutdown)
    // Notified after each delivery, and when the follower gets stuck on (or past) a malformed event.
    const delivered = new CommitSignal()
    let started = false
    let position = 0
    let at: number | null = null
    let known = false
    /** The follower cannot read past a malformed event; consumers re-read the store to see why. */
    let stuck = false

    const deliver = (chunk: Chunk.Chunk<RecordedEvent>) =>
      Effect.suspend(() => {
        const fresh = Chunk.filter(chunk, (event) => event.position > position)
        const tail = Chunk.last(fresh)
        if (tail._tag === "None") return Effect.void
        position = tail.value.position
        at = tail.value.metadata.recordedAt
        stuck = false
        return PubSub.publishAll(pubsub, fresh).pipe(Effect.zipRight(Effect.sync(() => delivered.notify())))
      })

    // Reads to the end once (the head is then known), then subscribes after what it has read.
    const followOnce = Effect.suspend(() =>
      Stream.runForEachChunk(store.readAll(position), deliver).pipe(
        Effect.zipRight(
          Effect.suspend(() => {
            known = true
            delivered.notify()
            return Stream.runForEachChunk(store.subscribeAll(position), (chunk) =>
              Chunk.isEmpty(chunk) || chunk.length >= GATHER_BELOW || gatherMs === 0
                ? deliver(chunk)
                : Effect.zipRight(deliver(chunk), gatherPause)
            )
          })
        )
      )
    )
    const follow = followOnce.pipe(
      Effect.tapError((error) =>
        Effect.suspend(() => {
          if (error._tag === "MalformedEvent") {
            stuck = true
            delivered.notify()
            return Effect.logError("log follower: the log holds an event it cannot read; retrying", error)
          }
          return Effect.logWarning("log follower: subscription to the log failed; resubscribing", error)
        })
      ),
      Effect.retry(logRetryPolicy),
      Effect.catchAll((error) => Effect.die(error))
    )

    const start = (from: number) =>
      Effect.suspend(() => {
        if (started) return Effect.void
        started = true
        position = from
        return Effect.asVoid(Effect.forkIn(follow, scope))
      })

    /** After catching up to `cursor.last` directly: what the follower delivers, dropping what was read. */
    const liveFrom = (
      queue: Queue.Dequeue<RecordedEvent>,
      cursor: { last: number }
    ): Stream.Stream<RecordedEvent, MalformedEvent> =>
      Stream.repeatEffectChunk(
        Effect.gen(function* () {
          for (;;) {
            // Taken before looking, so that a delivery in between is not missed.
            const wake = delivered.nextCommit()
            const taken = yield* Queue.takeUpTo(queue, MAX_CHUNK)
            const fresh = Chunk.filter(taken, (event) => event.position > cursor.last)
            const tail = Chunk.last(fresh)
            if (tail._tag === "Some") {
              cursor.last = tail.value.position
              return fresh
            }
            if (Chunk.isNonEmpty(taken)) continue
            if (stuck) {
              // The store says why the follower is stuck (and fails this stream with it), or the
              // log was corrected meanwhile and reading goes on from here.
              const read = yield* retryingOutages(
                Stream.runCollect(Stream.suspend(() => store.readAll(cursor.last)))
              )
              const past = Chunk.filter(read, (event) => event.position > cursor.last)
              const last = Chunk.last(past)
              if (last._tag === "Some") {
                cursor.last = last.value.position
                return past
              }
            }
            yield* wake
          }
        })
      )

    const from = (start_: number): Stream.Stream<RecordedEvent, MalformedEvent> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const cursor = { last: start_ }
          yield* start(start_)
          // Far behind (a rebuild): read the store directly, pulled at the consumer's pace. Then
          // subscribe, read again what committed meanwhile, and go on from the follower's feed.
          const catchUp = readFrom(store, cursor)
          const live = Stream.unwrapScoped(
            Effect.map(PubSub.subscribe(pubsub), (queue) =>
              Stream.concat(readFrom(store, cursor), liveFrom(queue, cursor))
            )
          )
          return Stream.concat(catchUp, live)
        })
      )

    const follow_ = (start_: number): Stream.Stream<RecordedEvent> =>
      Stream.suspend(() => {
        const cursor = { last: start_ }
        return Stream.suspend(() => from(cursor.last)).pipe(
          // Once per chunk, not an effect per event: every event of the log passes here.
          Stream.mapChunks((chunk) => {
            const tail = Chunk.last(chunk)
            if (tail._tag === "Some") cursor.last = tail.value.position
            return chunk
          }),
          Stream.tapError((error) =>
            Effect.logError("log follower: a consumer waits for a malformed event to be corrected", error)
          ),
          Stream.retry(logRetryPolicy),
          Stream.catchAll((error) => Stream.die(error))
        )
      })

    const head = (): LogHead => ({ position, at, known })
    const known_: Effect.Effect<LogHead> = Effect.suspend(() => {
      const wake = delivered.nextCommit()
      return known ? Effect.succeed(head()) : Effect.zipRight(wake, known_)
    })

    return {
      from,
      start,
      follow: follow_,
      live: PubSub.subscribe(pubsub),
      head,
      known: known_
    } satisfies LogFollowerShape
  })

/** The process's one log follower, over its `EventStore`; its fiber lives as long as the layer. */
export const logFollowerLayer = (
  options: Parameters<typeof makeLogFollower>[1] = {}
): Layer.Layer<LogFollower, never, EventStore> =>
  Layer.scoped(
    LogFollower,
    Effect.flatMap(EventStore, (store) => makeLogFollower(store, options))
  )

/** `logFollowerLayer` with the default pause (`GATHER_MS`). */
export const LogFollowerLive: Layer.Layer<LogFollower, never, EventStore> = logFollowerLayer()

/** The `LogFollower` in context, or (embedding, tests) one of its own over the `EventStore`. */
export const logFollowerOrOwn: Effect.Effect<LogFollowerShape, never, EventStore | Scope.Scope> =
  Effect.flatMap(Effect.serviceOption(LogFollower), (found) =>
    found._tag === "Some"
      ? Effect.succeed(found.value)
      : Effect.flatMap(EventStore, (store) => makeLogFollower(store))
  )
