/** Request and response shapes of the signalling operations (what mediasoup-client needs). */
import type { SpaceId, UserId } from "@spaces/domain"
import type { types } from "mediasoup"

export type Direction = "send" | "recv"

export interface Caller {
  readonly spaceId: SpaceId
  readonly userId: UserId
}

/** What a browser passes to mediasoup-client's `device.createSendTransport/createRecvTransport`. */
export interface WebRtcTransportInfo {
  readonly transportId: string
  readonly direction: Direction
  readonly iceParameters: types.IceParameters
  readonly iceCandidates: ReadonlyArray<types.IceCandidate>
  readonly dtlsParameters: types.DtlsParameters
}

/** A plain RTP transport (tests, recorders, gateways): send RTP to / receive RTP from ip:port. */
export interface PlainTransportInfo {
  readonly transportId: string
  readonly direction: Direction
  readonly ip: string
  readonly port: number
}

export interface ConsumerInfo {
  readonly consumerId: string
  readonly producerId: string
  readonly userId: UserId
  readonly kind: types.MediaKind
  readonly rtpParameters: types.RtpParameters
  readonly paused: boolean
}

export interface ProducerInfo {
  readonly producerId: string
  readonly userId: UserId
  readonly paused: boolean
}

/** Where a room's load sits: one entry per router (the first is the origin router). */
export interface RoomStats {
  readonly routers: ReadonlyArray<{
    readonly routerId: string
    readonly workerPid: number
    readonly recvTransports: number
    readonly consumers: number
  }>
  readonly producers: number
  /** Audio samples (48 kHz) recorded so far over all tracks, or null when the Space is not recording. */
  readonly recordedSamples: number | null
}

/** A live worker of the pool: its seat, process and load (routers + estimated consumers). */
export interface WorkerStats {
  readonly index: number
  readonly pid: number
  readonly routers: number
  readonly load: number
}
