import type { SpaceId, UserId } from "@spaces/domain"
import { Context, type Effect, type Stream } from "effect"
import type { types } from "mediasoup"
import type {
  IncompatibleMedia,
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
import type { EdgePipe, EdgePipeInfo, PipeEnd, PipeOffer } from "./plane/nodePipes.js"
import type { RoomEvent, SpeakingSignal } from "./signals.js"
import type {
  Caller,
  ConsumerInfo,
  Direction,
  PlainTransportInfo,
  ProducerInfo,
  RoomStats,
  WebRtcTransportInfo,
  WorkerStats
} from "./signalling.js"

/**
 * The media plane of Spaces: one mediasoup room per live Space. It obeys the domain through
 * `apply` and asks it (`SpeakerAuthority`) before every signalling operation; it never decides
 * who may speak.
 */
export interface MediaPlaneService {
  /** Carries out an order derived from a domain event; idempotent, never fails. */
  readonly apply: (instruction: MediaInstruction) => Effect.Effect<void>

  /** The room router's RTP capabilities, for mediasoup-client's `device.load`. */
  readonly rtpCapabilities: (
    caller: Caller
  ) => Effect.Effect<types.RtpCapabilities, RoomNotOpen | NotAParticipant | MediaUnavailable>

  /** A WebRTC transport: "send" for speakers only, "recv" for every participant. */
  readonly createWebRtcTransport: (
    caller: Caller,
    direction: Direction
  ) => Effect.Effect<
    WebRtcTransportInfo,
    RoomNotOpen | NotAParticipant | NotASpeaker | MediaLimitReached | MediaUnavailable
  >

  /** A plain RTP transport (tests, recording, SIP/RTMP gateways), with the same authorisation. */
  readonly createPlainTransport: (
    caller: Caller,
    direction: Direction
  ) => Effect.Effect<
    PlainTransportInfo,
    RoomNotOpen | NotAParticipant | NotASpeaker | MediaLimitReached | MediaUnavailable
  >

  /** DTLS parameters from the client (WebRTC) or the remote ip/port (plain). */
  readonly connectTransport: (
    caller: Caller,
    transportId: string,
    remote: { readonly dtlsParameters: types.DtlsParameters } | { readonly ip: string; readonly port: number }
  ) => Effect.Effect<
    void,
    RoomNotOpen | UnknownTransport | IncompatibleMedia | MediaRequestRejected | MediaUnavailable
  >

  /** Publishes the speaker's audio track (paused if the speaker is muted); offered to the whole room. */
  readonly produce: (
    caller: Caller,
    transportId: string,
    rtpParameters: types.RtpParameters
  ) => Effect.Effect<
    ProducerInfo,
    | RoomNotOpen
    | NotASpeaker
    | UnknownTransport
    | WrongTransportDirection
    | IncompatibleMedia
    | MediaLimitReached
    | MediaRequestRejected
    | MediaUnavailable
  >

  /** A consumer of one producer on the caller's receive transport, created paused. */
  readonly consume: (
    caller: Caller,
    transportId: string,
    producerId: string,
    rtpCapabilities: types.RtpCapabilities
  ) => Effect.Effect<
    ConsumerInfo,
    | RoomNotOpen
    | NotAParticipant
    | UnknownTransport
    | UnknownProducer
    | WrongTransportDirection
    | IncompatibleMedia
    | MediaLimitReached
    | MediaRequestRejected
    | MediaUnavailable
  >

  /** The client is ready: RTP starts flowing to it. */
  readonly resumeConsumer: (
    caller: Caller,
    consumerId: string
  ) => Effect.Effect<void, RoomNotOpen | UnknownConsumer | MediaUnavailable>

  /** The client closes one of its transports (and with it its producer or consumers). */
  readonly closeTransport: (
    caller: Caller,
    transportId: string
  ) => Effect.Effect<void, RoomNotOpen | UnknownTransport>

  /**
   * A server-side tap on one producer's RTP (the transcriber): a DirectTransport consumer on the
   * room's origin router, so the worker forwards the packets into this process. Nothing arrives
   * while the producer is paused (a muted speaker costs nothing); `onClose` runs once when the
   * tap ends (closed, the producer closed, or the room closed).
   */
  readonly tapAudio: (
    spaceId: SpaceId,
    producerId: string,
    handlers: { readonly onRtp: (packet: Buffer) => void; readonly onClose: () => void }
  ) => Effect.Effect<AudioTap, RoomNotOpen | UnknownProducer | MediaUnavailable>

  /**
   * The same tap, sent elsewhere (an external transcriber): a PlainTransport consumer on the origin
   * router that sends the producer's RTP (Opus, rtcp-mux) to `ip:port`. Nothing flows while the
   * producer is paused; the tap ends with its producer or room, or on `closeRemoteTap`.
   */
  readonly tapAudioTo: (
    spaceId: SpaceId,
    producerId: string,
    remote: { readonly ip: string; readonly port: number }
  ) => Effect.Effect<RemoteTapInfo, RoomNotOpen | UnknownProducer | IncompatibleMedia | MediaUnavailable>

  /** Ends a remote tap of this Space (unknown or already ended: `UnknownTransport`). */
  readonly closeRemoteTap: (spaceId: SpaceId, tapId: string) => Effect.Effect<void, UnknownTransport>

  /** The room's current producers, to consume on joining (later ones arrive as `NewProducer`). */
  readonly producers: (spaceId: SpaceId) => Effect.Effect<ReadonlyArray<ProducerInfo>, RoomNotOpen>
  /** The same, for a client: only a participant of the Space (as for `rtpCapabilities`). */
  readonly producersFor: (
    caller: Caller
  ) => Effect.Effect<ReadonlyArray<ProducerInfo>, RoomNotOpen | NotAParticipant>

  /** The room's track events from now on; ends when the room closes (or moves: `MediaRestarted`). */
  readonly events: (spaceId: SpaceId) => Stream.Stream<RoomEvent, RoomNotOpen>

  /** The room's speaking indicators from now on (lossy); ends when the room closes. */
  readonly speaking: (spaceId: SpaceId) => Stream.Stream<SpeakingSignal, RoomNotOpen>

  /** Load figures of a room (routers, workers, consumers), for operators and tests. */
  readonly stats: (spaceId: SpaceId) => Effect.Effect<RoomStats, RoomNotOpen>

  /**
   * The Spaces whose room is waiting for a live worker: moving to another worker after its worker
   * died, or opening in the background after its first try failed (no live worker then). Until
   * the wait is over (opened, lost, or the Space ended meanwhile), for operators and tests.
   */
  readonly moving: Effect.Effect<ReadonlyArray<SpaceId>>

  /**
   * Several nodes (`plane/nodePipes.ts`): the origin of a speaker's producer pipes it to an edge
   * node that has listeners. `pipeOut` on the origin connects to the edge's end and consumes the
   * producer into the pipe; `openEdgePipe` / `completeEdgePipe` on the edge make its end and then
   * produce the piped track into its room.
   */
  readonly pipeOut: (
    spaceId: SpaceId,
    producerId: string,
    edge: PipeEnd
  ) => Effect.Effect<PipeOffer, RoomNotOpen | UnknownProducer | IncompatibleMedia | MediaUnavailable>
  readonly closePipeOut: (pipeId: string) => Effect.Effect<void>
  readonly openEdgePipe: (
    spaceId: SpaceId
  ) => Effect.Effect<EdgePipe, RoomNotOpen | IncompatibleMedia | MediaUnavailable>
  readonly completeEdgePipe: (
    spaceId: SpaceId,
    pipeId: string,
    offer: PipeOffer
  ) => Effect.Effect<void, RoomNotOpen | UnknownTransport | IncompatibleMedia | MediaUnavailable>
  readonly closeEdgePipe: (pipeId: string) => Effect.Effect<void>
  /** This node's edge pipes and how many consumers each feeds here (closed by the caller when idle). */
  readonly edgePipes: Effect.Effect<ReadonlyArray<EdgePipeInfo>>
  /** This node's pipes out to edges, for operators and tests. */
  readonly pipeOuts: Effect.Effect<ReadonlyArray<{ readonly spaceId: SpaceId; readonly pipeId: string }>>

  /** The live workers (a dead one is replaced after a backoff), for operators and tests. */
  readonly workers: Effect.Effect<ReadonlyArray<WorkerStats>>
}

/** A running producer tap. */
export interface AudioTap {
  /** The RTP header extension id carrying the ssrc-audio-level (RFC 6464), when the sender sends it. */
  readonly audioLevelExtensionId: number | undefined
  readonly close: () => void
}

/** A remote tap: where its RTP comes from (SSRC, payload type) and whose producer it is. */
export interface RemoteTapInfo {
  readonly tapId: string
  readonly producerId: string
  readonly userId: UserId
  readonly ssrc: number
  readonly payloadType: number
  readonly audioLevelExtensionId: number | undefined
}

export class MediaPlane extends Context.Tag("@spaces/media/MediaPlane")<MediaPlane, MediaPlaneService>() {}

export type { EdgePipe, EdgePipeInfo, PipeEnd, PipeOffer } from "./plane/nodePipes.js"
