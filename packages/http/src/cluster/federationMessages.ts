/**
 * The media federation's messages between nodes, decoded at the broker as at any boundary: track
 * events, the producer directory's entries, and pipe requests, replies and closes.
 */
import { SpaceId, UserId } from "@spaces/domain"
import type { PipeEnd } from "@spaces/media"
import { Schema } from "effect"
import type { types } from "mediasoup"

/** A track event of a producer whose origin is another node, for this node's room streams. */
export const TrackEvent = Schema.Union(
  Schema.TaggedStruct("NewProducer", {
    spaceId: SpaceId,
    userId: UserId,
    producerId: Schema.String,
    paused: Schema.Boolean
  }),
  Schema.TaggedStruct("ProducerPaused", { spaceId: SpaceId, userId: UserId, producerId: Schema.String }),
  Schema.TaggedStruct("ProducerResumed", { spaceId: SpaceId, userId: UserId, producerId: Schema.String }),
  Schema.TaggedStruct("ProducerClosed", { spaceId: SpaceId, userId: UserId, producerId: Schema.String })
)
export type TrackEvent = typeof TrackEvent.Type
export const decodeTrack = Schema.decodeUnknownEither(TrackEvent)

/** A directory entry: which node holds a producer of the Space (its origin). */
export const Directory = Schema.parseJson(
  Schema.Struct({ node: Schema.String, userId: UserId, paused: Schema.Boolean })
)
export const decodeDirectory = Schema.decodeUnknownEither(Directory)
export const encodeDirectory = Schema.encodeSync(Directory)

export const Srtp = Schema.Struct({ cryptoSuite: Schema.String, keyBase64: Schema.String })
export const End = { ip: Schema.String, port: Schema.Int, srtpParameters: Schema.optional(Srtp) }
/** RTP parameters are mediasoup's own (it validates them when the edge produces). */
export const RtpParameters = Schema.Struct(
  { codecs: Schema.Array(Schema.Unknown) },
  { key: Schema.String, value: Schema.Unknown }
)
export const PipeRequest = Schema.Struct({
  requestId: Schema.String,
  from: Schema.String,
  spaceId: SpaceId,
  producerId: Schema.String,
  edge: Schema.Struct(End)
})
export const PipeReply = Schema.Struct({
  requestId: Schema.String,
  offer: Schema.optional(
    Schema.Struct({
      ...End,
      pipeId: Schema.String,
      producerId: Schema.String,
      userId: UserId,
      rtpParameters: RtpParameters,
      paused: Schema.Boolean
    })
  ),
  error: Schema.optional(Schema.String)
})
export const PipeClose = Schema.Struct({ pipeId: Schema.String })

export const toEnd = (end: {
  ip: string
  port: number
  srtpParameters?: typeof Srtp.Type | undefined
}): PipeEnd => ({
  ip: end.ip,
  port: end.port,
  srtpParameters: end.srtpParameters as types.SrtpParameters | undefined
})
