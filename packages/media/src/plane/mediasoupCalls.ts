import { Effect } from "effect"
import {
  IncompatibleMedia,
  MediaRequestRejected,
  MediaUnavailable,
  RoomNotOpen,
  UnknownProducer
} from "../errors.js"
import type { SpaceId } from "@spaces/domain"
import type { Room } from "../room/room.js"

/** mediasoup rejects with TypeError/UnsupportedError on parameters it cannot use. */
export const isParameterError = (error: unknown): error is Error =>
  error instanceof Error && (error.name === "TypeError" || error.name === "UnsupportedError")

/**
 * The worker answered a request with a plain Error ("connect() already called", "ssrc already
 * exists"): a refusal of what was asked, not a failure of the worker. A closed channel or object
 * (InvalidStateError) and a request that timed out are the server's side.
 */
export const isWorkerRefusal = (error: unknown): error is Error =>
  error instanceof Error && error.name === "Error" && !/timeout|closed/i.test(error.message)

/** What a rejection is judged by: the room's Space, whether it closed, whether its worker died. */
export interface RoomAtRejection {
  readonly spaceId: Room["spaceId"]
  readonly closed: boolean
  readonly workerDied: boolean
}

const atRejection = (room: Room): RoomAtRejection => ({
  spaceId: room.spaceId,
  closed: room.closed,
  workerDied: room.origin.pooled.worker.died
})

/**
 * A rejected request the server made (routers, transports, taps): a closed room is `RoomNotOpen`,
 * parameters mediasoup cannot use are `IncompatibleMedia`, anything else `MediaUnavailable` (503).
 */
export const serverRejection = (
  room: RoomAtRejection,
  error: unknown
): RoomNotOpen | IncompatibleMedia | MediaUnavailable =>
  room.closed
    ? new RoomNotOpen({ spaceId: room.spaceId })
    : isParameterError(error)
      ? new IncompatibleMedia({ spaceId: room.spaceId, reason: error.message })
      : new MediaUnavailable({ reason: error instanceof Error ? error.message : String(error) })

/**
 * A rejected request on what the client sent (its DTLS or RTP parameters, its order of calls): a
 * refusal by a live worker is the client's mistake (`MediaRequestRejected`, a 4xx), never a 503.
 */
export const clientRejection = (
  room: RoomAtRejection,
  error: unknown
): RoomNotOpen | IncompatibleMedia | MediaRequestRejected | MediaUnavailable =>
  !room.closed && !isParameterError(error) && isWorkerRefusal(error) && !room.workerDied
    ? new MediaRequestRejected({ spaceId: room.spaceId, reason: error.message })
    : serverRejection(room, error)

/** A mediasoup call the server makes on a room. */
export const call = <A>(room: Room, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (error) => serverRejection(atRejection(room), error) })

/** A mediasoup call on what the client sent. */
export const clientCall = <A>(room: Room, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (error) => clientRejection(atRejection(room), error) })

/**
 * The server's own consumer of `producerId` on `transport` (a tap, a pipe to another node), made
 * by `make`: if it fails the transport closes, and a producer that closed meanwhile is
 * `UnknownProducer` rather than a worker failure.
 */
export const consumeOrClose = <A>(
  room: Room,
  transport: { close(): void },
  spaceId: SpaceId,
  producerId: string,
  make: () => Promise<A>
): Effect.Effect<A, MediaUnavailable | RoomNotOpen | IncompatibleMedia | UnknownProducer> =>
  call(room, make).pipe(
    Effect.tapError(() => Effect.sync(() => transport.close())),
    Effect.catchTag(
      "MediaUnavailable",
      (error): Effect.Effect<never, MediaUnavailable | UnknownProducer> =>
        room.producers.has(producerId)
          ? Effect.fail(error)
          : Effect.fail(new UnknownProducer({ spaceId, producerId }))
    )
  )
