/** A speaker and listeners over plain RTP transports: the real SFU path, no browser. */
import type { SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import type { MediaPlaneService } from "../mediaPlane.js"
import { opusRtpPacket, opusRtpParameters } from "./rtp.js"
import { sleep, type UdpEndpoint, udpEndpoint } from "./udp.js"

export const spaceId = (id: string) => id as SpaceId
export const userId = (id: string) => id as UserId

export interface TestSpeaker {
  readonly userId: UserId
  readonly transportId: string
  readonly producerId: string
  readonly endpoint: UdpEndpoint
  /** Sends the packet of this index (sequence number, timestamp, payload marker) to the SFU. */
  readonly send: (index: number, payloadSize?: number) => Promise<void>
  /** Sends a packet made by the test (real Opus, for example) to the SFU. */
  readonly sendPacket: (packet: Buffer) => Promise<void>
}

export const plainSpeaker = (plane: MediaPlaneService, space: SpaceId, user: UserId, ssrc: number) =>
  Effect.gen(function* () {
    const caller = { spaceId: space, userId: user }
    const transport = yield* plane.createPlainTransport(caller, "send")
    const endpoint = yield* Effect.promise(() => udpEndpoint())
    // Non-comedia: mediasoup accepts RTP only from the address it is connected to.
    yield* plane.connectTransport(caller, transport.transportId, { ip: endpoint.ip, port: endpoint.port })
    const producer = yield* plane.produce(caller, transport.transportId, opusRtpParameters(ssrc))
    const speaker: TestSpeaker = {
      userId: user,
      transportId: transport.transportId,
      producerId: producer.producerId,
      endpoint,
      send: (index, payloadSize) =>
        endpoint.send(
          opusRtpPacket({ ssrc, index, ...(payloadSize === undefined ? {} : { payloadSize }) }),
          transport.ip,
          transport.port
        ),
      sendPacket: (packet) => endpoint.send(packet, transport.ip, transport.port)
    }
    return speaker
  })

export interface TestListener {
  readonly userId: UserId
  readonly transportId: string
  readonly consumerIds: Array<string>
  readonly endpoint: UdpEndpoint
}

export const plainListener = (plane: MediaPlaneService, space: SpaceId, user: UserId) =>
  Effect.gen(function* () {
    const caller = { spaceId: space, userId: user }
    const transport = yield* plane.createPlainTransport(caller, "recv")
    const endpoint = yield* Effect.promise(() => udpEndpoint())
    yield* plane.connectTransport(caller, transport.transportId, { ip: endpoint.ip, port: endpoint.port })
    const listener: TestListener = {
      userId: user,
      transportId: transport.transportId,
      consumerIds: [],
      endpoint
    }
    return listener
  })

/** Consumes a producer on the listener's transport and resumes it (the client is ready). */
export const consumeAndResume = (
  plane: MediaPlaneService,
  space: SpaceId,
  listener: TestListener,
  producerId: string
) =>
  Effect.gen(function* () {
    const caller = { spaceId: space, userId: listener.userId }
    const capabilities = yield* plane.rtpCapabilities(caller)
    const consumer = yield* plane.consume(caller, listener.transportId, producerId, capabilities)
    yield* plane.resumeConsumer(caller, consumer.consumerId)
    listener.consumerIds.push(consumer.consumerId)
    return consumer
  })

/** The numbers [from, to): the packet indexes a test sends and expects. */
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** Sends packets [from, to) from a speaker, a little apart so no socket buffer overflows. */
export const sendRange = (send: (index: number) => Promise<void>, from: number, to: number) =>
  Effect.promise(async () => {
    for (let index = from; index < to; index++) {
      await send(index)
      if (index % 10 === 9) await sleep(2)
    }
  })
