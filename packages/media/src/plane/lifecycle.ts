import type { SpaceId, UserId } from "@spaces/domain"
import { Deferred, Effect, Exit, PubSub, Schedule } from "effect"
import type { MediaConfig } from "../config.js"
import { MediaUnavailable, RoomNotOpen } from "../errors.js"
import { routerOptions } from "../mediasoupOptions.js"
import { type Recorder, startRecorder } from "../recording/recorder.js"
import { Room } from "../room/room.js"
import { observeSpeaking, type SpeakingObservers } from "../room/speaking.js"
import type { RoomEvent, SpeakingSignal } from "../signals.js"
import type { WorkerPool } from "../workers/workerPool.js"

/** An open room: its mediasoup state, its speaking observers, its recorder while recording. */
export interface LiveRoom {
  readonly room: Room
  readonly observers: SpeakingObservers
  recorder: Recorder | undefined
}

/**
 * A room waiting for a live worker: reopening after its worker died, or opening after its first
 * try failed. Orders that arrive meanwhile are kept here.
 */
export interface Move {
  recording: boolean
  ended: boolean
  /** Done when the Space ends: the tries stop then, not at the next one. */
  readonly end: Deferred.Deferred<void>
  /** Tries made on a live worker so far, for the logs. */
  tries: number
}

const newMove = (recording: boolean) =>
  Effect.map(Deferred.make<void>(), (end): Move => ({ recording, ended: false, end, tries: 0 }))

/** A moving room waits for a live worker (a replacement may still be starting), but not forever. */
const reopenSchedule = Schedule.exponential("50 millis").pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.upTo("2 minutes")
)

export type RoomLifecycle = ReturnType<typeof makeRoomLifecycle>

/**
 * The rooms of the live Spaces: opening one on the least-loaded worker, closing it, recording it,
 * and moving it to a live worker when its worker dies (or opening it later when no worker could
 * hold it). `runFork` runs work started by mediasoup's events, interrupted on shutdown.
 */
export const makeRoomLifecycle = (
  config: MediaConfig,
  pool: WorkerPool,
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown
) => {
  const rooms = new Map<SpaceId, LiveRoom>()
  /**
   * Rooms waiting for a live worker (moving after theirs died, or opening after a failed try):
   * set for the whole wait, however it ends.
   */
  const moves = new Map<SpaceId, Move>()

  /** Looked up when run, not when built: a stored effect (a retry, a poll) sees the room of its time. */
  const roomOf = (spaceId: SpaceId): Effect.Effect<LiveRoom, RoomNotOpen> =>
    Effect.suspend(() => {
      const live = rooms.get(spaceId)
      return live === undefined || live.room.closed
        ? Effect.fail(new RoomNotOpen({ spaceId }))
        : Effect.succeed(live)
    })

  const openRoom = (spaceId: SpaceId, recording: boolean) =>
    Effect.gen(function* () {
      if (rooms.has(spaceId)) return
      const pooled = pool.leastLoaded()
      if (pooled === undefined) return yield* new MediaUnavailable({ reason: "no live mediasoup worker" })
      const router = yield* Effect.tryPromise({
        try: () => pooled.worker.createRouter(routerOptions),
        catch: (error) => new MediaUnavailable({ reason: String(error) })
      })
      // Another fiber may have opened it while the router was being created.
      if (rooms.has(spaceId)) {
        router.close()
        return
      }
      const room = new Room(
        spaceId,
        router,
        pooled,
        yield* PubSub.unbounded<RoomEvent>(),
        yield* PubSub.sliding<SpeakingSignal>(64),
        yield* Deferred.make<void>(),
        yield* Effect.makeSemaphore(1)
      )
      const observers = yield* observeSpeaking(room, config).pipe(
        Effect.tapError(() => Effect.sync(() => router.close()))
      )
      // The router's close event may have fired during those awaits (its worker died): a room
      // kept on it would never move. Failing lets a reopening room retry on a live worker.
      if (router.closed)
        return yield* new MediaUnavailable({ reason: "the room's worker died while it was opening" })
      if (rooms.has(spaceId)) {
        router.close()
        return
      }
      const live: LiveRoom = { room, observers, recorder: undefined }
      rooms.set(spaceId, live)
      // A dead worker takes the origin router with it: the room moves to a live worker.
      router.observer.once("close", () => {
        if (!room.closed) runFork(pooled.worker.died ? moveRoom(live) : closeRoom(live))
      })
      if (recording) yield* setRecording(live, true)
    })

  const closeRoom = (live: LiveRoom, last: "RoomClosed" | "MediaRestarted" = "RoomClosed") =>
    Effect.gen(function* () {
      if (rooms.get(live.room.spaceId) === live) rooms.delete(live.room.spaceId)
      live.room.close(last)
      const recorder = live.recorder
      live.recorder = undefined
      if (recorder !== undefined) yield* recorder.stop
    })

  const closeAll = Effect.suspend(() =>
    Effect.forEach([...rooms.values()], (live) => closeRoom(live), { discard: true })
  ).pipe(Effect.zipRight(Effect.sync(() => rooms.clear())))

  /**
   * The room's origin worker died with its router, transports and producers: the room reopens on
   * a live worker (the dead one's replacement if need be) and its clients, told `MediaRestarted`,
   * set up their media again. Orders that arrive meanwhile (end, recording) are kept in `moves`.
   */
  const moveRoom = (live: LiveRoom): Effect.Effect<void> =>
    Effect.gen(function* () {
      const { spaceId } = live.room
      if (rooms.get(spaceId) !== live) return
      const move = yield* newMove(live.recorder !== undefined)
      moves.set(spaceId, move)
      yield* whileWaiting(spaceId, move, reopen(live, move))
    })

  /** A wait for a live worker; its entry in `moves` goes however it ends (opened, lost, interrupted). */
  const whileWaiting = (spaceId: SpaceId, move: Move, wait: Effect.Effect<void>) =>
    wait.pipe(
      // Only this wait's own entry: a later move of the same Space may have replaced it.
      Effect.ensuring(
        Effect.sync(() => {
          if (moves.get(spaceId) === move) moves.delete(spaceId)
        })
      )
    )

  /**
   * Opens the Space's room on a live worker, trying again on `reopenSchedule` while none can hold
   * it (a replacement may still be starting), with the orders kept in `move`. The Space ending
   * stops the tries at once; a try under way finishes first (cut short, it could leave a router
   * behind) and its room is closed. The open room, or undefined if the Space ended or the room
   * went on to another move meanwhile.
   */
  const openOnLiveWorker = (spaceId: SpaceId, move: Move) =>
    Effect.gen(function* () {
      const tries = Effect.suspend(() => {
        move.tries++
        return openRoom(spaceId, move.recording)
      }).pipe(Effect.uninterruptible, Effect.retry(reopenSchedule))
      if (!move.ended) yield* Effect.raceFirst(tries, Deferred.await(move.end))
      const fresh = rooms.get(spaceId)
      if (fresh === undefined) return undefined
      if (move.ended) {
        yield* closeRoom(fresh)
        return undefined
      }
      // A RecordingChanged may have arrived while the room was opening with the flag of its try.
      yield* setRecording(fresh, move.recording)
      return fresh
    })

  const reopen = (live: LiveRoom, move: Move) =>
    Effect.gen(function* () {
      const { spaceId } = live.room
      const lostPid = live.room.origin.pooled.worker.pid
      yield* closeRoom(live, "MediaRestarted")
      const reopened = yield* Effect.exit(openOnLiveWorker(spaceId, move))
      if (Exit.isFailure(reopened)) {
        return yield* Effect.logError(
          "media room lost: it could not be reopened on a live worker",
          reopened.cause
        ).pipe(Effect.annotateLogs({ event: "media.room.lost", spaceId, lostWorkerPid: lostPid }))
      }
      const fresh = reopened.value
      if (fresh === undefined) return
      yield* Effect.logWarning("media room moved to another worker after its worker died").pipe(
        Effect.annotateLogs({
          event: "media.room.moved",
          spaceId,
          lostWorkerPid: lostPid,
          workerPid: fresh.room.origin.pooled.worker.pid,
          tries: move.tries
        })
      )
    })

  /**
   * A new Space's room could not open: its worker died while it opened, or none was alive (the
   * pool was replacing one). It opens in the background like a moving room, so that `apply`
   * does not hold up the orders after it; an end arriving meanwhile stops it.
   */
  const openLater = (spaceId: SpaceId, recording: boolean, error: MediaUnavailable) =>
    Effect.gen(function* () {
      if (rooms.has(spaceId) || moves.has(spaceId)) return
      const move = yield* newMove(recording)
      // Set before `apply` returns, so that the next order for this Space finds it.
      moves.set(spaceId, move)
      yield* Effect.logWarning("media room could not open: trying again on a live worker").pipe(
        Effect.annotateLogs({ event: "media.room.open-failed", spaceId, reason: error.reason })
      )
      yield* Effect.sync(() => runFork(whileWaiting(spaceId, move, retryOpen(spaceId, move))))
    })

  const retryOpen = (spaceId: SpaceId, move: Move) =>
    Effect.gen(function* () {
      const opened = yield* Effect.exit(openOnLiveWorker(spaceId, move))
      if (Exit.isFailure(opened)) {
        return yield* Effect.logError(
          "media room lost: it could not be opened on a live worker",
          opened.cause
        ).pipe(Effect.annotateLogs({ event: "media.room.lost", spaceId, tries: move.tries }))
      }
      const fresh = opened.value
      if (fresh !== undefined) {
        yield* Effect.logInfo("media room opened on a live worker after its first try failed").pipe(
          Effect.annotateLogs({
            event: "media.room.opened",
            spaceId,
            workerPid: fresh.room.origin.pooled.worker.pid,
            tries: move.tries
          })
        )
      } else if (move.ended) {
        yield* Effect.logInfo("the Space ended before its media room could open").pipe(
          Effect.annotateLogs({ event: "media.room.open-cancelled", spaceId, tries: move.tries })
        )
      }
    })

  const setRecording = (live: LiveRoom, on: boolean): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (on && live.recorder === undefined && !live.room.closed) {
        const recorder = yield* startRecorder(live.room, config).pipe(
          Effect.catchAll((error) =>
            Effect.logError("recording could not start", error).pipe(Effect.as(undefined))
          )
        )
        live.recorder = recorder
        if (recorder !== undefined) {
          // A piped producer is recorded on its origin node.
          for (const entry of live.room.producers.values()) if (!entry.piped) yield* recorder.addTrack(entry)
        }
      } else if (!on && live.recorder !== undefined) {
        const recorder = live.recorder
        live.recorder = undefined
        yield* recorder.stop
      }
    })

  /** The user's turn in the recording ends (revoked, left, removed): their track is complete. */
  const endTurn = (live: LiveRoom, userId: UserId) =>
    Effect.suspend(() => (live.recorder === undefined ? Effect.void : live.recorder.endTurn(userId)))

  return { rooms, moves, roomOf, openRoom, openLater, closeRoom, closeAll, setRecording, endTurn }
}
