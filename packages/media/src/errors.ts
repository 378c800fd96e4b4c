import { type RuleKind, SpaceId, UserId } from "@spaces/domain"
import { Schema } from "effect"

/*
 * The media plane's errors. Each `_tag` starts with "Media", so none clashes with a domain error
 * (the domain has its own `NotASpeaker`) and a port maps every error one way: the rule `kind`
 * gives the status (as for the domain's errors), the tag the stable problem type
 * (`MediaNotASpeaker` → `media-not-a-speaker`). `MediaUnavailable` is the server's side and has
 * no rule kind.
 */

/** The user may not publish audio in this Space (a listener, removed, or not in it): HTTP 403. */
export class NotASpeaker extends Schema.TaggedError<NotASpeaker>()("MediaNotASpeaker", {
  spaceId: SpaceId,
  userId: UserId
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `${this.userId} may not send audio in Space ${this.spaceId}: not a speaker there`
  }
}

/** The user may not receive this Space's audio (not a participant, or removed): HTTP 403. */
export class NotAParticipant extends Schema.TaggedError<NotAParticipant>()("MediaNotAParticipant", {
  spaceId: SpaceId,
  userId: UserId
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `${this.userId} may not receive the audio of Space ${this.spaceId}: not a participant`
  }
}

/** The Space has no open media room (not started, or ended): HTTP 409. */
export class RoomNotOpen extends Schema.TaggedError<RoomNotOpen>()("MediaRoomNotOpen", {
  spaceId: SpaceId
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `Space ${this.spaceId} has no open media room here`
  }
}

/** No such transport of this user in this Space (never created, or closed): HTTP 404. */
export class UnknownTransport extends Schema.TaggedError<UnknownTransport>()("MediaUnknownTransport", {
  spaceId: SpaceId,
  transportId: Schema.String
}) {
  readonly kind: RuleKind = "not_found"
  override get message() {
    return `no transport ${this.transportId} of yours in Space ${this.spaceId}`
  }
}

/** No such producer in this Space (closed, or never existed): HTTP 404. */
export class UnknownProducer extends Schema.TaggedError<UnknownProducer>()("MediaUnknownProducer", {
  spaceId: SpaceId,
  producerId: Schema.String
}) {
  readonly kind: RuleKind = "not_found"
  override get message() {
    return `no producer ${this.producerId} in Space ${this.spaceId}`
  }
}

/** No such consumer of this user in this Space: HTTP 404. */
export class UnknownConsumer extends Schema.TaggedError<UnknownConsumer>()("MediaUnknownConsumer", {
  spaceId: SpaceId,
  consumerId: Schema.String
}) {
  readonly kind: RuleKind = "not_found"
  override get message() {
    return `no consumer ${this.consumerId} of yours in Space ${this.spaceId}`
  }
}

/** The operation does not fit the transport (e.g. produce on a receive transport): HTTP 409. */
export class WrongTransportDirection extends Schema.TaggedError<WrongTransportDirection>()(
  "MediaWrongTransportDirection",
  { spaceId: SpaceId, transportId: Schema.String, expected: Schema.Literal("send", "recv") }
) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `transport ${this.transportId} is not a ${this.expected} transport`
  }
}

/** The client's RTP capabilities or parameters do not match the room's codec (Opus): HTTP 422. */
export class IncompatibleMedia extends Schema.TaggedError<IncompatibleMedia>()("MediaIncompatibleMedia", {
  spaceId: SpaceId,
  reason: Schema.String
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return this.reason
  }
}

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
}) {
  readonly kind: RuleKind = "limit"
  override get message() {
    return `at most ${this.max} (${this.limit}) in Space ${this.spaceId}`
  }
}

/**
 * The mediasoup worker refused what the client asked, on the client's own data or order (a
 * transport connected twice, an SSRC already in use): the client's mistake, HTTP 409.
 */
export class MediaRequestRejected extends Schema.TaggedError<MediaRequestRejected>()("MediaRequestRejected", {
  spaceId: SpaceId,
  reason: Schema.String
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return this.reason
  }
}

/** No media plane on this server (worker binary not built) or a worker died: HTTP 503, no rule kind. */
export class MediaUnavailable extends Schema.TaggedError<MediaUnavailable>()("MediaUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

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
