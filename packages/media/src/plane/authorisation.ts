import { Effect } from "effect"
import type { MediaPermission, SpeakerAuthority } from "../authority.js"
import { NotAParticipant, NotASpeaker, UnknownTransport, WrongTransportDirection } from "../errors.js"
import type { Room } from "../room/room.js"
import type { Caller, Direction } from "../signalling.js"

export type Authorisation = ReturnType<typeof makeAuthorisation>

/**
 * Who may do what in a room, asked of the domain (`SpeakerAuthority`) each time: the media plane
 * never decides it. Listening needs a participant; producing and send transports a speaker.
 */
export const makeAuthorisation = (authority: SpeakerAuthority["Type"]) => {
  const permission = ({ spaceId, userId }: Caller) => authority.permission(spaceId, userId)

  const mayListen = (caller: Caller) =>
    Effect.filterOrFail(
      permission(caller),
      (p: MediaPermission) => p.mayListen || p.mayProduce,
      () => new NotAParticipant(caller)
    )

  const mayProduce = (caller: Caller) =>
    Effect.filterOrFail(
      permission(caller),
      (p) => p.mayProduce,
      () => new NotASpeaker(caller)
    )

  const authorise = (
    caller: Caller,
    direction: Direction
  ): Effect.Effect<void, NotASpeaker | NotAParticipant> =>
    direction === "send" ? Effect.asVoid(mayProduce(caller)) : Effect.asVoid(mayListen(caller))

  return { permission, mayListen, mayProduce, authorise }
}

/** The caller's own transport: another user's transport id is as unknown as a closed one. */
export const transportOf = (room: Room, caller: Caller, transportId: string) => {
  const entry = room.transports.get(transportId)
  return entry === undefined || entry.userId !== caller.userId
    ? Effect.fail(new UnknownTransport({ spaceId: room.spaceId, transportId }))
    : Effect.succeed(entry)
}

/** The caller's own transport, in the direction the operation needs. */
export const directed = (room: Room, caller: Caller, transportId: string, direction: Direction) =>
  Effect.filterOrFail(
    transportOf(room, caller, transportId),
    (entry) => entry.direction === direction,
    () => new WrongTransportDirection({ spaceId: room.spaceId, transportId, expected: direction })
  )
