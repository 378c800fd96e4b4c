import type { UserId } from "@spaces/domain"
import { Effect } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { MediaUnavailable } from "../errors.js"
import { activeSpeakerObserverOptions, audioLevelObserverOptions } from "../mediasoupOptions.js"
import type { Room } from "./room.js"

export interface SpeakingObservers {
  readonly add: (producerId: string) => Effect.Effect<void>
}

/**
 * Turns the origin router's ActiveSpeakerObserver and AudioLevelObserver into the room's
 * speaking signals. Both only read packets carrying the ssrc-audio-level header extension.
 * Creating them fails (MediaUnavailable, a failure the caller can retry) when the router's
 * worker dies meanwhile.
 */
export const observeSpeaking = (
  room: Room,
  config: MediaConfig
): Effect.Effect<SpeakingObservers, MediaUnavailable> =>
  Effect.tryPromise({
    try: async () => {
      const router = room.origin.router
      // Both asked at once: a room opens in two round trips to its worker, not three (restarts
      // reopen every live room). One failing leaves the other to the router's close.
      const [active, levels] = await Promise.all([
        router.createActiveSpeakerObserver(activeSpeakerObserverOptions(config)),
        router.createAudioLevelObserver(audioLevelObserverOptions(config))
      ])
      const userOf = (producer: types.Producer): UserId | undefined => room.producers.get(producer.id)?.userId

      active.on("dominantspeaker", ({ producer }) => {
        const userId = userOf(producer)
        if (userId !== undefined) room.signal({ _tag: "ActiveSpeaker", spaceId: room.spaceId, userId })
      })
      levels.on("volumes", (volumes) => {
        const known = volumes.flatMap(({ producer, volume }) => {
          const userId = userOf(producer)
          return userId === undefined ? [] : [{ userId, volume }]
        })
        room.signal({ _tag: "AudioLevels", spaceId: room.spaceId, levels: known })
      })
      levels.on("silence", () => room.signal({ _tag: "Silence", spaceId: room.spaceId }))

      return {
        add: (producerId: string) =>
          Effect.promise(() =>
            // A producer closed meanwhile is simply not observed.
            Promise.all([active.addProducer({ producerId }), levels.addProducer({ producerId })]).catch(
              () => undefined
            )
          )
      }
    },
    catch: (error) => new MediaUnavailable({ reason: error instanceof Error ? error.message : String(error) })
  })
