import { Deferred, Effect, HashSet, Layer } from "effect"
import { isSpeakingRole, participantOf, type SpaceId, Spaces, type UserId } from "@spaces/domain"
import { type MediaPermission, SpeakerAuthority } from "@spaces/media"

const nobody = { mayListen: false, mayProduce: false, muted: false }

/** What the domain allows a user in a Space, from the Space's own folded state. */
const permissionOf =
  (spaces: Spaces["Type"]) =>
  (spaceId: SpaceId, userId: UserId): Effect.Effect<MediaPermission> =>
    spaces.space(spaceId).pipe(
      Effect.map((state) => {
        const participant = participantOf(state, userId)
        if (state.status !== "live" || participant === undefined || HashSet.has(state.banned, userId))
          return nobody
        return { mayListen: true, mayProduce: isSpeakingRole(participant.role), muted: participant.muted }
      }),
      // Unreadable state: deny (the client retries; the media plane never guesses).
      Effect.orElseSucceed(() => nobody)
    )

/**
 * The media plane asks the domain, never decides: a participant who is not removed may listen;
 * host, co-hosts and speakers present in a live Space may produce, paused while muted.
 */
export const DomainSpeakerAuthority = Layer.effect(
  SpeakerAuthority,
  Effect.map(Spaces, (spaces) => SpeakerAuthority.of({ permission: permissionOf(spaces) }))
)

/**
 * The same authority for a media plane built while the domain is still opening (its workers start
 * beside the store at start-up): each question waits for the domain, which is up before anyone
 * can ask (the server listens after both).
 */
export const domainSpeakerAuthorityOnceOpen = (spaces: Deferred.Deferred<Spaces["Type"]>) =>
  Layer.succeed(
    SpeakerAuthority,
    SpeakerAuthority.of({
      permission: (spaceId, userId) =>
        Effect.flatMap(Deferred.await(spaces), (open) => permissionOf(open)(spaceId, userId))
    })
  )
