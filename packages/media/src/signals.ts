import type { SpaceId, UserId } from "@spaces/domain"

/**
 * What happens to a room's tracks, for the HTTP/SSE layer to forward to every participant: a
 * client consumes each `NewProducer` it is told about (after `producers` for those already there).
 */
export type RoomEvent =
  | {
      readonly _tag: "NewProducer"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly producerId: string
      readonly paused: boolean
    }
  | {
      readonly _tag: "ProducerPaused"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly producerId: string
    }
  | {
      readonly _tag: "ProducerResumed"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly producerId: string
    }
  | {
      readonly _tag: "ProducerClosed"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly producerId: string
    }
  /**
   * Sent to the user whose transports the media plane closed (revocation, removal, leave) or lost
   * (the worker of their router died): the client rebuilds its media from the room view.
   */
  | {
      readonly _tag: "TransportsClosed"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly transportIds: ReadonlyArray<string>
    }
  /**
   * The media plane closed a transport whose peer is gone (its handshake failed, or nothing arrived
   * on it for a while: a closed tab, a dropped line). For presence; nobody is left to rebuild.
   */
  | {
      readonly _tag: "TransportLost"
      readonly spaceId: SpaceId
      readonly userId: UserId
      readonly transportId: string
    }
  | { readonly _tag: "RoomClosed"; readonly spaceId: SpaceId }
  /**
   * The room's worker died and the room was reopened on another one: every client sets up its
   * media again (transports, producer, consumers). The last event of the old room, like RoomClosed.
   */
  | { readonly _tag: "MediaRestarted"; readonly spaceId: SpaceId }

/** Ephemeral speaking indicators from the workers' observers; lossy by design (latest wins). */
export type SpeakingSignal =
  | { readonly _tag: "ActiveSpeaker"; readonly spaceId: SpaceId; readonly userId: UserId }
  | {
      readonly _tag: "AudioLevels"
      readonly spaceId: SpaceId
      /** dBov, -127 (silent) … 0 (loudest), loudest first. */
      readonly levels: ReadonlyArray<{ readonly userId: UserId; readonly volume: number }>
    }
  | { readonly _tag: "Silence"; readonly spaceId: SpaceId }
