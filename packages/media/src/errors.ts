import { SpaceId, UserId } from "@spaces/domain"
import { Schema } from "effect"

/** The user may not publish audio in this Space (a listener, removed, or not in it): HTTP 403. */
export class NotASpeaker extends Schema.TaggedError<NotASpeaker>()("NotASpeaker", {
  spaceId: SpaceId,
  userId: UserId
}) {}

/** The user may not receive this Space's audio (not a participant, or removed): HTTP 403. */
export class NotAParticipant extends Schema.TaggedError<NotAParticipant>()("NotAParticipant", {
  spaceId: SpaceId,
  userId: UserId
}) {}

/** The Space has no open media room (not started, or ended): HTTP 409. */
export class RoomNotOpen extends Schema.TaggedError<RoomNotOpen>()("RoomNotOpen", {
  spaceId: SpaceId
}) {}

/** No such transport of this user in this Space (never created, or closed): HTTP 404. */
export class UnknownTransport extends Schema.TaggedError<UnknownTransport>()("UnknownTransport", {
  spaceId: SpaceId,
  transportId: Schema.String
}) {}

/** No such producer in this Space (closed, or never existed): HTTP 404. */
export class UnknownProducer extends Schema.TaggedError<UnknownProducer>()("UnknownProducer", {
  spaceId: SpaceId,
  producerId: Schema.String
}) {}

/** No such consumer of this user in this Space: HTTP 404. */
export class UnknownConsumer extends Schema.TaggedError<UnknownConsumer>()("UnknownConsumer", {
  spaceId: SpaceId,
  consumerId: Schema.String
}) {}

/** The operation does not fit the transport (e.g. produce on a receive transport): HTTP 409. */
export class WrongTransportDirection extends Schema.TaggedError<WrongTransportDirection>()(
  "WrongTransportDirection",
  { spaceId: SpaceId, transportId: Schema.String, expected: Schema.Literal("send", "recv") }
) {}

/** The client's RTP capabilities or parameters do not match the room's codec (Opus): HTTP 422. */
export class IncompatibleMedia extends Schema.TaggedError<IncompatibleMedia>()("IncompatibleMedia", {
  spaceId: SpaceId,
  reason: Schema.String
}) {}

/** Which per-user media cap a request ran into (see MediaConfig). */
export const MediaLimit = Schema.Literal("transportsPerUser", "producersPerTransport", "consumersPerUser")
export type MediaLimit = typeof MediaLimit.Type

/**
 * The request would go over a per-user cap (transports per user per Space, producers per
 * transport, consumers per user per Space): HTTP 422, naming the limit and its value.
 */
export class MediaLimitReached extends Schema.TaggedError<MediaLimitReached>()("MediaLimitReached", {
  spaceId: SpaceId,
  limit: MediaLimit,
  max: Schema.Int
}) {}

/**
 * The mediasoup worker refused what the client asked, on the client's own data or order (a
 * transport connected twice, an SSRC already in use): the client's mistake, HTTP 409.
 */
export class MediaRequestRejected extends Schema.TaggedError<MediaRequestRejected>()("MediaRequestRejected", {
  spaceId: SpaceId,
  reason: Schema.String
}) {}

/** No media plane on this server (worker binary not built) or a worker died: HTTP 503. */
export class MediaUnavailable extends Schema.TaggedError<MediaUnavailable>()("MediaUnavailable", {
  reason: Schema.String
}) {}

/** Errors of the signalling operations, for exhaustive mapping to HTTP problems. */
export type SignallingError =
  | NotASpeaker
  | NotAParticipant
  | RoomNotOpen
  | UnknownTransport
  | UnknownProducer
  | UnknownConsumer
  | WrongTransportDirection
  | IncompatibleMedia
  | MediaLimitReached
  | MediaRequestRejected
  | MediaUnavailable
