import type { SpaceId, UserId } from "@spaces/domain"
import { Deferred, Effect, Exit, FiberSet, Layer, PubSub, Schedule, Stream } from "effect"
import type { types } from "mediasoup"
import { type MediaPermission, SpeakerAuthority } from "./authority.js"
import { type MediaConfig, mediaConfig } from "./config.js"
import {
  IncompatibleMedia,
  type MediaLimit,
  MediaLimitReached,
  MediaRequestRejected,
  MediaUnavailable,
  NotAParticipant,
  NotASpeaker,
  RoomNotOpen,
  UnknownConsumer,
  UnknownProducer,
  UnknownTransport,
  WrongTransportDirection
} from "./errors.js"
import type { MediaInstruction } from "./instructions.js"
import { MediaPlane, type MediaPlaneService } from "./mediaPlane.js"
import {
  audioLevelExtensionId,
  consumerOptions,
  pipeToRouterOptions,
  plainTransportOptions,
  routerOptions,
  webRtcTransportOptions
} from "./mediasoupOptions.js"
import { type Recorder, startRecorder } from "./recording/recorder.js"
import { Room, type RouterSlot, type TransportEntry } from "./room/room.js"
import { observeSpeaking, type SpeakingObservers } from "./room/speaking.js"
import type { RoomEvent, SpeakingSignal } from "./signals.js"
import type { Caller, Direction } from "./signalling.js"
import { makeWorkerPool, type WorkerPool, workerLoad } from "./workers/workerPool.js"

interface LiveRoom {
  readonly room: Room
  readonly observers: SpeakingObservers
  recorder: Recorder | undefined
}

/**
 * A room waiting for a live worker: reopening after its worker died, or opening after its first
 * try failed. Orders that arrive meanwhile are kept here.
 */
interface Move {
  recording: boolean
  ended: boolean
  /** Done when the Space ends: the tries stop then, not at the next one. */
  readonly end: Deferred.Deferred<void>
  /** Tries made on a live worker so far, for the logs. */
  tries: number
}

const newMove = (recording: boolean) =>
  Effect.map(Deferred.make<void>(), (end): Move => ({ recording, ended: false, end, tries: 0 }))

/** mediasoup rejects with TypeError/UnsupportedError on parameters it cannot use. */
const isParameterError = (error: unknown): error is Error =>
  error instanceof Error && (error.name === "TypeError" || error.name === "UnsupportedError")

/**
 * The worker answered a request with a plain Error ("connect() already called", "ssrc already
 * exists"): a refusal of what was asked, not a failure of the worker. A closed channel or object
 * (InvalidStateError) and a request that timed out are the server's side.
 */
const isWorkerRefusal = (error: unknown): error is Error =>
  error instanceof Error && error.name === "Error" && !/timeout|closed/i.test(error.message)

/**
 * mediasoup 3.12's pipeToRouter forwards the pipe consumer's pause and resume to the pipe producer
 * and drops the promise: if the producer's worker dies with that request in flight, the rejection
 * is unhandled, which ends the Node process. The same forwarding, with the rejection handled.
 */
const forwardPauses = (consumer: types.Consumer | undefined, producer: types.Producer | undefined) => {
  if (consumer === undefined || producer === undefined) return
  consumer.observer.removeAllListeners("pause")
  consumer.observer.removeAllListeners("resume")
  consumer.observer.on("pause", () => void producer.pause().catch(() => undefined))
  consumer.observer.on("resume", () => void producer.resume().catch(() => undefined))
}

/** A moving room waits for a live worker (a replacement may still be starting), but not forever. */
const reopenSchedule = Schedule.exponential("50 millis").pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.upTo("2 minutes")
)

/** The last event of a room's stream: the Space ended, or its media moved to a new room. */
const isLastEvent = (event: RoomEvent) => event._tag === "RoomClosed" || event._tag === "MediaRestarted"

const make = (config: MediaConfig) =>
  Effect.gen(function* () {
    const authority = yield* SpeakerAuthority
    const pool: WorkerPool = yield* makeWorkerPool(config)
    const rooms = new Map<SpaceId, LiveRoom>()
    /**
     * Rooms waiting for a live worker (moving after theirs died, or opening after a failed try):
     * set for the whole wait, however it ends.
     */
    const moves = new Map<SpaceId, Move>()
    /** Remote taps (external transcribers) by tap id: the transport that sends the RTP out. */
    const remoteTaps = new Map<
      string,
      { readonly spaceId: SpaceId; readonly transport: types.PlainTransport }
    >()

    yield* Effect.addFinalizer(() =>
      Effect.forEach([...rooms.values()], (live) => closeRoom(live), { discard: true }).pipe(
        Effect.zipRight(Effect.sync(() => rooms.clear()))
      )
    )
    // Work started by mediasoup's events (a router closing) runs here, interrupted on shutdown.
    const runFork = yield* FiberSet.makeRuntime<never>()

    /** A mediasoup call on a room: a rejection becomes IncompatibleMedia, RoomNotOpen or MediaUnavailable. */
    const call = <A>(room: Room, run: () => Promise<A>) =>
      Effect.tryPromise({
        try: run,
        catch: (error) =>
          room.closed
            ? new RoomNotOpen({ spaceId: room.spaceId })
            : isParameterError(error)
              ? new IncompatibleMedia({ spaceId: room.spaceId, reason: error.message })
              : new MediaUnavailable({ reason: error instanceof Error ? error.message : String(error) })
      })

    /**
     * A mediasoup call on what the client sent (its DTLS or RTP parameters, its order of calls): a
     * refusal by a live worker is the client's mistake (MediaRequestRejected), not MediaUnavailable.
     */
    const clientCall = <A>(room: Room, run: () => Promise<A>) =>
      Effect.tryPromise({
        try: run,
        catch: (error) =>
          room.closed
            ? new RoomNotOpen({ spaceId: room.spaceId })
            : isParameterError(error)
              ? new IncompatibleMedia({ spaceId: room.spaceId, reason: error.message })
              : isWorkerRefusal(error) && !room.origin.pooled.worker.died
                ? new MediaRequestRejected({ spaceId: room.spaceId, reason: error.message })
                : new MediaUnavailable({ reason: error instanceof Error ? error.message : String(error) })
      })

    const limitReached = (room: Room, limit: MediaLimit, max: number) =>
      new MediaLimitReached({ spaceId: room.spaceId, limit, max })

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
            for (const entry of live.room.producers.values()) yield* recorder.addTrack(entry)
          }
        } else if (!on && live.recorder !== undefined) {
          const recorder = live.recorder
          live.recorder = undefined
          yield* recorder.stop
        }
      })

    // Built lazily: an order's effect acts on the rooms as they are when it runs (a retry, a replay).
    const apply = (instruction: MediaInstruction): Effect.Effect<void> =>
      Effect.suspend(() => applyNow(instruction))
    const applyNow = (instruction: MediaInstruction): Effect.Effect<void> => {
      const withRoom = (spaceId: SpaceId, f: (live: LiveRoom) => Effect.Effect<void>) => {
        const live = rooms.get(spaceId)
        return live === undefined ? Effect.void : f(live)
      }
      switch (instruction._tag) {
        case "SpaceStarted":
          // A room already waiting for a live worker (a replayed order) is left to that wait.
          if (moves.has(instruction.spaceId)) return Effect.void
          return openRoom(instruction.spaceId, instruction.recording).pipe(
            Effect.catchAll((error) => openLater(instruction.spaceId, instruction.recording, error))
          )
        case "SpeakerMuted":
          return withRoom(instruction.spaceId, ({ room }) => room.setMuted(instruction.userId, true))
        case "SpeakerUnmuted":
          return withRoom(instruction.spaceId, ({ room }) => room.setMuted(instruction.userId, false))
        // Under the room's lock, like transport creation and producing: a transport or producer
        // being created while the order arrives is either refused by its own re-check of the
        // permission, or registered before this runs and closed by it.
        // The speaker's turn ends with them: their recorded track is complete.
        case "SpeakerRevoked":
          return withRoom(instruction.spaceId, (live) =>
            live.room.lock.withPermits(1)(
              Effect.sync(() => live.room.revokeSpeaker(instruction.userId)).pipe(
                Effect.zipRight(endTurn(live, instruction.userId))
              )
            )
          )
        case "ParticipantLeft":
        case "ParticipantRemoved":
          return withRoom(instruction.spaceId, (live) =>
            live.room.lock.withPermits(1)(
              Effect.sync(() => live.room.closeTransportsOf(instruction.userId)).pipe(
                Effect.zipRight(endTurn(live, instruction.userId))
              )
            )
          )
        case "SpaceEnded": {
          const move = moves.get(instruction.spaceId)
          if (move === undefined) return withRoom(instruction.spaceId, (live) => closeRoom(live))
          move.ended = true
          return Deferred.succeed(move.end, undefined).pipe(
            Effect.zipRight(withRoom(instruction.spaceId, (live) => closeRoom(live)))
          )
        }
        case "RecordingChanged": {
          const move = moves.get(instruction.spaceId)
          if (move !== undefined) move.recording = instruction.recording
          return withRoom(instruction.spaceId, (live) => setRecording(live, instruction.recording))
        }
      }
    }

    const endTurn = (live: LiveRoom, userId: UserId) =>
      Effect.suspend(() => (live.recorder === undefined ? Effect.void : live.recorder.endTurn(userId)))

    /** Looked up when run, not when built: a stored effect (a retry, a poll) sees the room of its time. */
    const roomOf = (spaceId: SpaceId): Effect.Effect<LiveRoom, RoomNotOpen> =>
      Effect.suspend(() => {
        const live = rooms.get(spaceId)
        return live === undefined || live.room.closed
          ? Effect.fail(new RoomNotOpen({ spaceId }))
          : Effect.succeed(live)
      })

    const permission = ({ spaceId, userId }: Caller) => authority.permission(spaceId, userId)

    const mayListen = (caller: Caller) =>
      Effect.filterOrFail(
        permission(caller),
        (p: MediaPermission) => p.mayListen || p.mayProduce,
        () => new NotAParticipant(caller)
      )

    const mayProduce = (caller: Caller) =>
      Effect.filterOrFail(
        permission(caller),
        (p) => p.mayProduce,
        () => new NotASpeaker(caller)
      )

    const authorise = (
      caller: Caller,
      direction: Direction
    ): Effect.Effect<void, NotASpeaker | NotAParticipant> =>
      direction === "send" ? Effect.asVoid(mayProduce(caller)) : Effect.asVoid(mayListen(caller))

    /** The caller's own transport: another user's transport id is as unknown as a closed one. */
    const transportOf = (room: Room, caller: Caller, transportId: string) => {
      const entry = room.transports.get(transportId)
      return entry === undefined || entry.userId !== caller.userId
        ? Effect.fail(new UnknownTransport({ spaceId: room.spaceId, transportId }))
        : Effect.succeed(entry)
    }

    const directed = (room: Room, caller: Caller, transportId: string, direction: Direction) =>
      Effect.filterOrFail(
        transportOf(room, caller, transportId),
        (entry) => entry.direction === direction,
        () => new WrongTransportDirection({ spaceId: room.spaceId, transportId, expected: direction })
      )

    /** Pipes a producer from the origin router to another router of the room (another worker). */
    const pipe = (room: Room, producerId: string, slot: RouterSlot) =>
      call(room, () => room.origin.router.pipeToRouter(pipeToRouterOptions(producerId, slot.router))).pipe(
        Effect.tap(({ pipeConsumer, pipeProducer }) =>
          Effect.sync(() => forwardPauses(pipeConsumer, pipeProducer))
        ),
        // The producer may have closed meanwhile; consumers of it then fail with UnknownProducer.
        Effect.catchTag("IncompatibleMedia", "MediaUnavailable", (error) =>
          Effect.logWarning("pipeToRouter failed", error)
        )
      )

    /**
     * Where a new transport goes: speakers on the origin router (their producers live there);
     * listeners on the least-loaded router of the room, or on a new router on another worker
     * (fed through pipeToRouter) once every router of the room is full.
     */
    const placeTransport = (room: Room, direction: Direction) =>
      Effect.gen(function* () {
        if (direction === "send") return room.origin
        let best = room.origin
        for (const slot of room.slots) if (slot.load() < best.load()) best = slot
        const perListener = Math.max(1, room.producers.size)
        if (best.load() + perListener <= config.maxConsumersPerRouter) return best
        const used = new Set(room.slots.map((slot) => slot.pooled))
        const pooled = pool.leastLoaded(used)
        if (pooled === undefined) return best
        const router = yield* call(room, () => pooled.worker.createRouter(routerOptions))
        if (room.closed) {
          router.close()
          return yield* new RoomNotOpen({ spaceId: room.spaceId })
        }
        // Its worker died while the router was being created: its close event (which drops the
        // slot) has fired already, so the router must not become a slot; the room's own will do.
        if (router.closed) return best
        const slot = room.addSlot(router, pooled)
        for (const producerId of room.producers.keys()) yield* pipe(room, producerId, slot)
        return slot
      })

    const createTransport = <T extends TransportEntry["transport"]>(
      caller: Caller,
      direction: Direction,
      create: (router: types.Router) => Promise<T>,
      entryOf: (transport: T, slot: RouterSlot) => TransportEntry
    ) =>
      Effect.gen(function* () {
        const { room } = yield* roomOf(caller.spaceId)
        yield* authorise(caller, direction)
        return yield* room.lock
          .withPermits(1)(
            Effect.gen(function* () {
              const held = room.transportsOf(caller.userId)
              if (held >= config.maxTransportsPerUser)
                return yield* limitReached(room, "transportsPerUser", config.maxTransportsPerUser)
              const slot = yield* placeTransport(room, direction)
              const transport = yield* call(room, () => create(slot.router))
              if (room.closed) {
                transport.close()
                return yield* new RoomNotOpen({ spaceId: room.spaceId })
              }
              // The user may have been removed (or revoked) while the worker created it: the order
              // closing their transports ran before this, so this one must not outlive it.
              const allowed = yield* Effect.either(authorise(caller, direction))
              if (allowed._tag === "Left") {
                transport.close()
                return yield* allowed.left
              }
              room.addTransport(entryOf(transport, slot))
              return transport
            })
          )
          .pipe(
            // Nothing of the client's goes into a new transport: a rejection is the server's fault.
            Effect.catchTag("IncompatibleMedia", ({ reason }) => new MediaUnavailable({ reason }))
          )
      })

    const service: MediaPlaneService = {
      apply,

      rtpCapabilities: (caller) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          yield* mayListen(caller)
          return room.origin.router.rtpCapabilities
        }),

      createWebRtcTransport: (caller, direction) =>
        createTransport(
          caller,
          direction,
          (router) => router.createWebRtcTransport(webRtcTransportOptions(config)),
          (transport, slot) => ({ kind: "webrtc", transport, userId: caller.userId, direction, slot })
        ).pipe(
          Effect.map((transport) => ({
            transportId: transport.id,
            direction,
            iceParameters: transport.iceParameters,
            iceCandidates: transport.iceCandidates,
            dtlsParameters: transport.dtlsParameters
          }))
        ),

      createPlainTransport: (caller, direction) =>
        createTransport(
          caller,
          direction,
          (router) => router.createPlainTransport(plainTransportOptions(config)),
          (transport, slot) => ({ kind: "plain", transport, userId: caller.userId, direction, slot })
        ).pipe(
          Effect.map((transport) => ({
            transportId: transport.id,
            direction,
            ip: transport.tuple.localIp,
            port: transport.tuple.localPort
          }))
        ),

      connectTransport: (caller, transportId, remote) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          const entry = yield* transportOf(room, caller, transportId)
          if (entry.kind === "webrtc" && "dtlsParameters" in remote) {
            const { transport } = entry
            yield* clientCall(room, () => transport.connect({ dtlsParameters: remote.dtlsParameters }))
          } else if (entry.kind === "plain" && "ip" in remote) {
            const { transport } = entry
            yield* clientCall(room, () => transport.connect({ ip: remote.ip, port: remote.port }))
          } else {
            return yield* new IncompatibleMedia({
              spaceId: room.spaceId,
              reason: `a ${entry.kind} transport connects with ${entry.kind === "webrtc" ? "dtlsParameters" : "ip and port"}`
            })
          }
        }),

      produce: (caller, transportId, rtpParameters) =>
        Effect.gen(function* () {
          const live = yield* roomOf(caller.spaceId)
          const { room } = live
          const entry = yield* directed(room, caller, transportId, "send")
          const { muted } = yield* mayProduce(caller)
          return yield* room.lock.withPermits(1)(
            Effect.gen(function* () {
              if (room.producedOn(transportId) >= config.maxProducersPerTransport)
                return yield* limitReached(room, "producersPerTransport", config.maxProducersPerTransport)
              room.countProduced(transportId)
              const producer = yield* clientCall(room, () =>
                entry.transport.produce({
                  kind: "audio",
                  rtpParameters,
                  paused: muted,
                  appData: { userId: caller.userId }
                })
              )
              // The transport may have closed while the worker created the producer (a leave, a
              // removal): a producer on it would stay listed in the room with nothing behind it.
              if (producer.closed || room.closed || !room.transports.has(transportId)) {
                producer.close()
                return yield* room.closed
                  ? new RoomNotOpen({ spaceId: room.spaceId })
                  : new UnknownTransport({ spaceId: room.spaceId, transportId })
              }
              // One track per speaker: a new producer (e.g. after a reconnect) replaces the old one.
              room.producerOf(caller.userId)?.producer.close()
              room.addProducer({ producer, userId: caller.userId, transportId })
              // Orders that arrived while the producer was being created are in the domain's state.
              const now = yield* permission(caller)
              if (!now.mayProduce) {
                room.revokeSpeaker(caller.userId)
                return yield* new NotASpeaker(caller)
              }
              if (now.muted !== producer.paused) yield* room.setMuted(caller.userId, now.muted)
              for (const slot of room.slots.slice(1)) yield* pipe(room, producer.id, slot)
              yield* live.observers.add(producer.id)
              if (live.recorder !== undefined)
                yield* live.recorder.addTrack({ producer, userId: caller.userId, transportId })
              const info = { producerId: producer.id, userId: caller.userId, paused: producer.paused }
              room.publish({ _tag: "NewProducer", spaceId: room.spaceId, ...info })
              return info
            })
          )
        }),

      consume: (caller, transportId, producerId, rtpCapabilities) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          const entry = yield* directed(room, caller, transportId, "recv")
          yield* mayListen(caller)
          const produced = room.producers.get(producerId)
          if (produced === undefined) return yield* new UnknownProducer({ spaceId: room.spaceId, producerId })
          if (!entry.slot.router.canConsume({ producerId, rtpCapabilities })) {
            return yield* new IncompatibleMedia({
              spaceId: room.spaceId,
              reason:
                "the RTP capabilities cannot receive this producer (Opus needed), or it is not piped here"
            })
          }
          if (room.consumersOf(caller.userId) >= config.maxConsumersPerUser)
            return yield* limitReached(room, "consumersPerUser", config.maxConsumersPerUser)
          const consumer = yield* clientCall(room, () =>
            entry.transport.consume(consumerOptions(producerId, rtpCapabilities))
          ).pipe(
            Effect.catchTag("MediaUnavailable", (error) =>
              Effect.fail(
                room.producers.has(producerId)
                  ? error
                  : new UnknownProducer({ spaceId: room.spaceId, producerId })
              )
            )
          )
          if (consumer.closed || !room.transports.has(transportId)) {
            consumer.close()
            return yield* new UnknownTransport({ spaceId: room.spaceId, transportId })
          }
          room.addConsumer({ consumer, userId: caller.userId, transportId, slot: entry.slot })
          return {
            consumerId: consumer.id,
            producerId,
            userId: produced.userId,
            kind: consumer.kind,
            rtpParameters: consumer.rtpParameters,
            paused: consumer.paused
          }
        }),

      resumeConsumer: (caller, consumerId) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          const entry = room.consumers.get(consumerId)
          if (entry === undefined || entry.userId !== caller.userId) {
            return yield* new UnknownConsumer({ spaceId: room.spaceId, consumerId })
          }
          yield* call(room, () => entry.consumer.resume()).pipe(
            Effect.catchTag(
              "IncompatibleMedia",
              () => new UnknownConsumer({ spaceId: room.spaceId, consumerId })
            )
          )
        }),

      closeTransport: (caller, transportId) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          const { transport } = yield* transportOf(room, caller, transportId)
          transport.close()
        }),

      tapAudio: (spaceId, producerId, { onRtp, onClose }) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(spaceId)
          if (!room.producers.has(producerId)) return yield* new UnknownProducer({ spaceId, producerId })
          const router = room.origin.router
          const transport = yield* call(room, () => router.createDirectTransport()).pipe(
            Effect.catchTag("IncompatibleMedia", ({ reason }) => new MediaUnavailable({ reason }))
          )
          const consumer = yield* call(room, () =>
            transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities })
          ).pipe(
            Effect.tapError(() => Effect.sync(() => transport.close())),
            // The producer closed while the consumer was being made.
            Effect.catchTag("IncompatibleMedia", () => new UnknownProducer({ spaceId, producerId }))
          )
          let open = true
          const end = () => {
            if (!open) return
            open = false
            transport.close()
            onClose()
          }
          consumer.on("rtp", onRtp)
          consumer.observer.once("close", end)
          if (consumer.closed) end()
          return { audioLevelExtensionId: audioLevelExtensionId(consumer.rtpParameters), close: end }
        }),

      tapAudioTo: (spaceId, producerId, remote) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(spaceId)
          const entry = room.producers.get(producerId)
          if (entry === undefined) return yield* new UnknownProducer({ spaceId, producerId })
          const router = room.origin.router
          const transport = yield* call(room, () =>
            router.createPlainTransport(plainTransportOptions(config))
          )
          const consumer = yield* call(room, async () => {
            await transport.connect({ ip: remote.ip, port: remote.port })
            return transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities })
          }).pipe(
            Effect.tapError(() => Effect.sync(() => transport.close())),
            // The producer closed while the consumer was being made.
            Effect.catchTag(
              "MediaUnavailable",
              (error): Effect.Effect<never, MediaUnavailable | UnknownProducer> =>
                room.producers.has(producerId)
                  ? Effect.fail(error)
                  : Effect.fail(new UnknownProducer({ spaceId, producerId }))
            )
          )
          const tapId = transport.id
          remoteTaps.set(tapId, { spaceId, transport })
          transport.observer.once("close", () => remoteTaps.delete(tapId))
          // Ends with its producer (the speaker left) or its router (the room closed).
          consumer.observer.once("close", () => transport.close())
          if (consumer.closed) transport.close()
          const encoding = consumer.rtpParameters.encodings?.[0]
          return {
            tapId,
            producerId,
            userId: entry.userId,
            ssrc: encoding?.ssrc ?? 0,
            payloadType: consumer.rtpParameters.codecs[0]?.payloadType ?? 0,
            audioLevelExtensionId: audioLevelExtensionId(consumer.rtpParameters)
          }
        }),

      closeRemoteTap: (spaceId, tapId) =>
        Effect.gen(function* () {
          const tap = remoteTaps.get(tapId)
          if (tap === undefined || tap.spaceId !== spaceId)
            return yield* new UnknownTransport({ spaceId, transportId: tapId })
          tap.transport.close()
        }),

      producers: (spaceId) => roomOf(spaceId).pipe(Effect.map(({ room }) => room.producerInfos())),

      producersFor: (caller) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          yield* mayListen(caller)
          return room.producerInfos()
        }),

      events: (spaceId) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const { room } = yield* roomOf(spaceId)
            const subscription = yield* PubSub.subscribe(room.events)
            return Stream.fromQueue(subscription).pipe(Stream.takeUntil(isLastEvent))
          })
        ),

      speaking: (spaceId) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const { room } = yield* roomOf(spaceId)
            const subscription = yield* PubSub.subscribe(room.speaking)
            return Stream.fromQueue(subscription).pipe(
              Stream.interruptWhen(Deferred.await(room.closedSignal))
            )
          })
        ),

      stats: (spaceId) =>
        roomOf(spaceId).pipe(
          Effect.map(({ room, recorder }) => ({
            ...room.stats(),
            recordedSamples: recorder?.samples() ?? null
          }))
        ),

      moving: Effect.sync(() => [...moves.keys()]),

      workers: Effect.sync(() =>
        pool.workers().map((pooled) => ({
          index: pooled.index,
          pid: pooled.worker.pid,
          routers: pooled.placed.size,
          load: workerLoad(pooled)
        }))
      )
    }
    return service
  })

/** The media plane over real mediasoup workers, started and stopped with the layer's scope. */
export const MediaPlaneLive = (
  overrides: Partial<MediaConfig> = {}
): Layer.Layer<MediaPlane, MediaUnavailable, SpeakerAuthority> =>
  Layer.scoped(MediaPlane, make(mediaConfig(overrides)))
