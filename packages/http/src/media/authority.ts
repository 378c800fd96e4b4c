import { HashSet, Layer, Effect } from "effect"
import { isSpeakingRole, participantOf, Spaces } from "@spaces/domain"
import { SpeakerAuthority } from "@spaces/media"

const nobody = { mayListen: false, mayProduce: false, muted: false }

/**
 * The media plane asks the domain, never decides: a participant who is not removed may listen;
 * host, co-hosts and speakers present in a live Space may produce, paused while muted.
 */
export const DomainSpeakerAuthority = Layer.effect(
  SpeakerAuthority,
  Effect.map(Spaces, (spaces) =>
    SpeakerAuthority.of({
      permission: (spaceId, userId) =>
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
    })
  )
)
