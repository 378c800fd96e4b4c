import { Effect } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import {
  IncompatibleMedia,
  type MediaLimit,
  MediaLimitReached,
  MediaUnavailable,
  NotASpeaker,
  RoomNotOpen,
  UnknownConsumer,
  UnknownProducer,
  UnknownTransport
} from "../errors.js"
import type { MediaPlaneService } from "../mediaPlane.js"
import { consumerOptions, plainTransportOptions, webRtcTransportOptions } from "../mediasoupOptions.js"
import type { Room, RouterSlot, TransportEntry } from "../room/room.js"
import type { Caller, Direction, PlainTransportInfo, WebRtcTransportInfo } from "../signalling.js"
import type { WorkerPool } from "../workers/workerPool.js"
import { type Authorisation, directed, transportOf } from "./authorisation.js"
import type { RoomLifecycle } from "./lifecycle.js"
import { call, clientCall } from "./mediasoupCalls.js"
import { pipeToAllSlots, placeTransport } from "./placement.js"

/** What a client needs of a new WebRTC transport to set up its side. */
const webRtcInfo = (transport: types.WebRtcTransport, direction: Direction): WebRtcTransportInfo => ({
  transportId: transport.id,
  direction,
  iceParameters: transport.iceParameters,
  iceCandidates: transport.iceCandidates,
  dtlsParameters: transport.dtlsParameters
})

/** Where a new plain transport listens. */
const plainInfo = (transport: types.PlainTransport, direction: Direction): PlainTransportInfo => ({
  transportId: transport.id,
  direction,
  ip: transport.tuple.localIp,
  port: transport.tuple.localPort
})

const limitReached = (room: Room, limit: MediaLimit, max: number) =>
  new MediaLimitReached({ spaceId: room.spaceId, limit, max })

/**
 * A client's signalling: its transports (placed on a router of the room, each checked against the
 * domain), its producer and its consumers, under the per-user caps of `config`.
 */
export const makeTransports = (
  config: MediaConfig,
  pool: WorkerPool,
  lifecycle: RoomLifecycle,
  access: Authorisation
): Pick<
  MediaPlaneService,
  | "createWebRtcTransport"
  | "createPlainTransport"
  | "connectTransport"
  | "produce"
  | "consume"
  | "resumeConsumer"
  | "closeTransport"
> => {
  const { roomOf } = lifecycle

  /** How each kind of transport is made on a router, and registered in the room. */
  interface TransportKind<T extends TransportEntry["transport"]> {
    readonly create: (router: types.Router) => Promise<T>
    readonly entry: (transport: T, caller: Caller, direction: Direction, slot: RouterSlot) => TransportEntry
  }
  const webRtc: TransportKind<types.WebRtcTransport> = {
    create: (router) => router.createWebRtcTransport(webRtcTransportOptions(config)),
    entry: (transport, { userId }, direction, slot) => ({
      kind: "webrtc",
      transport,
      userId,
      direction,
      slot
    })
  }
  const plain: TransportKind<types.PlainTransport> = {
    create: (router) => router.createPlainTransport(plainTransportOptions(config)),
    entry: (transport, { userId }, direction, slot) => ({ kind: "plain", transport, userId, direction, slot })
  }

  const createTransport = <T extends TransportEntry["transport"]>(
    caller: Caller,
    direction: Direction,
    kind: TransportKind<T>
  ) =>
    Effect.gen(function* () {
      const { room } = yield* roomOf(caller.spaceId)
      yield* access.authorise(caller, direction)
      return yield* room.lock
        .withPermits(1)(
          Effect.gen(function* () {
            const held = room.transportsOf(caller.userId)
            if (held >= config.maxTransportsPerUser)
              return yield* limitReached(room, "transportsPerUser", config.maxTransportsPerUser)
            const slot = yield* placeTransport(room, direction, config, pool)
            const transport = yield* call(room, () => kind.create(slot.router))
            if (room.closed) {
              transport.close()
              return yield* new RoomNotOpen({ spaceId: room.spaceId })
            }
            // The user may have been removed (or revoked) while the worker created it: the order
            // closing their transports ran before this, so this one must not outlive it.
            const allowed = yield* Effect.either(access.authorise(caller, direction))
            if (allowed._tag === "Left") {
              transport.close()
              return yield* allowed.left
            }
            room.addTransport(kind.entry(transport, caller, direction, slot))
            return transport
          })
        )
        .pipe(
          // Nothing of the client's goes into a new transport: a rejection is the server's fault.
          Effect.catchTag("MediaIncompatibleMedia", ({ reason }) => new MediaUnavailable({ reason }))
        )
    })

  return {
    createWebRtcTransport: (caller, direction) =>
      Effect.map(createTransport(caller, direction, webRtc), (transport) => webRtcInfo(transport, direction)),

    createPlainTransport: (caller, direction) =>
      Effect.map(createTransport(caller, direction, plain), (transport) => plainInfo(transport, direction)),

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
        const { muted } = yield* access.mayProduce(caller)
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
            const now = yield* access.permission(caller)
            if (!now.mayProduce) {
              room.revokeSpeaker(caller.userId)
              return yield* new NotASpeaker(caller)
            }
            if (now.muted !== producer.paused) yield* room.setMuted(caller.userId, now.muted)
            yield* pipeToAllSlots(room, producer.id)
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
        yield* access.mayListen(caller)
        const produced = room.producers.get(producerId)
        if (produced === undefined) return yield* new UnknownProducer({ spaceId: room.spaceId, producerId })
        if (!entry.slot.router.canConsume({ producerId, rtpCapabilities })) {
          return yield* new IncompatibleMedia({
            spaceId: room.spaceId,
            reason: "the RTP capabilities cannot receive this producer (Opus needed), or it is not piped here"
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
            "MediaIncompatibleMedia",
            () => new UnknownConsumer({ spaceId: room.spaceId, consumerId })
          )
        )
      }),

    closeTransport: (caller, transportId) =>
      Effect.gen(function* () {
        const { room } = yield* roomOf(caller.spaceId)
        const { transport } = yield* transportOf(room, caller, transportId)
        transport.close()
      })
  }
}
