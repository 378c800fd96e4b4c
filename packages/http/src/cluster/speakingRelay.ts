import { SpaceId, UserId } from "@spaces/domain"
import type { MediaPlaneService, SpeakingSignal } from "@spaces/media"
import { Effect, PubSub, type Queue, Schema, type Scope, Stream } from "effect"
import { relayRemote } from "./brokerCalls.js"
import type { EphemeralBusShape } from "./EphemeralBus.js"
import { forEachLiveSpace, type LiveSpacesAtStart } from "./liveSpaces.js"

const Speaking = Schema.Union(
  Schema.TaggedStruct("ActiveSpeaker", { spaceId: SpaceId, userId: UserId }),
  Schema.TaggedStruct("AudioLevels", {
    spaceId: SpaceId,
    levels: Schema.Array(Schema.Struct({ userId: UserId, volume: Schema.Number })).pipe(Schema.maxItems(100))
  }),
  Schema.TaggedStruct("Silence", { spaceId: SpaceId })
)
const encodeSpeaking = Schema.encodeSync(Speaking)

/** Speaking indicators measured on other nodes (where the speakers' producers are). */
export interface RemoteSpeaking {
  readonly subscribe: Effect.Effect<Queue.Dequeue<SpeakingSignal>, never, Scope.Scope>
}

export const makeRemoteSpeaking = (
  bus: EphemeralBusShape
): Effect.Effect<RemoteSpeaking, never, Scope.Scope> =>
  Effect.gen(function* () {
    const local = yield* Effect.acquireRelease(PubSub.sliding<SpeakingSignal>(1024), PubSub.shutdown)
    yield* relayRemote(bus, "speaking", Speaking, local)
    return { subscribe: PubSub.subscribe(local) }
  })

/**
 * Sends this node's speaking indicators to the other nodes: a speaker's audio levels are measured
 * where their producer is (the origin), and listeners on other nodes see them too.
 */
export const relaySpeaking = (
  plane: Pick<MediaPlaneService, "speaking">,
  bus: EphemeralBusShape,
  startup: LiveSpacesAtStart
) =>
  forEachLiveSpace(startup, (spaceId) =>
    plane
      .speaking(spaceId)
      .pipe(Stream.runForEach((signal) => bus.publish("speaking", encodeSpeaking(signal))))
  )
