import type { SpaceId } from "@spaces/domain"
import { Effect } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { MediaUnavailable, UnknownProducer, UnknownTransport } from "../errors.js"
import type { MediaPlaneService } from "../mediaPlane.js"
import { audioLevelExtensionId, plainTransportOptions } from "../mediasoupOptions.js"
import type { RoomLifecycle } from "./lifecycle.js"
import { call, consumeOrClose } from "./mediasoupCalls.js"

/**
 * Server-side taps on one producer's RTP, on the room's origin router: in this process (a
 * DirectTransport, for the transcriber) or sent to an external transcriber (a PlainTransport).
 */
export const makeTaps = (
  config: MediaConfig,
  lifecycle: RoomLifecycle
): Pick<MediaPlaneService, "tapAudio" | "tapAudioTo" | "closeRemoteTap"> => {
  const { roomOf } = lifecycle
  /** Remote taps (external transcribers) by tap id: the transport that sends the RTP out. */
  const remoteTaps = new Map<
    string,
    { readonly spaceId: SpaceId; readonly transport: types.PlainTransport }
  >()

  return {
    tapAudio: (spaceId, producerId, { onRtp, onClose }) =>
      Effect.gen(function* () {
        const { room } = yield* roomOf(spaceId)
        if (!room.producers.has(producerId)) return yield* new UnknownProducer({ spaceId, producerId })
        const router = room.origin.router
        const transport = yield* call(room, () => router.createDirectTransport()).pipe(
          Effect.catchTag("MediaIncompatibleMedia", ({ reason }) => new MediaUnavailable({ reason }))
        )
        const consumer = yield* call(room, () =>
          transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities })
        ).pipe(
          Effect.tapError(() => Effect.sync(() => transport.close())),
          // The producer closed while the consumer was being made.
          Effect.catchTag("MediaIncompatibleMedia", () => new UnknownProducer({ spaceId, producerId }))
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
        const transport = yield* call(room, () => router.createPlainTransport(plainTransportOptions(config)))
        const consumer = yield* consumeOrClose(room, transport, spaceId, producerId, async () => {
          await transport.connect({ ip: remote.ip, port: remote.port })
          return transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities })
        })
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
      })
  }
}
