import { decodeRecorded, type RecordedEvent, SpaceEvent, SpaceId, UserId } from "@spaces/domain"
import type { MediaPlaneService, SpeakingSignal } from "@spaces/media"
import { Effect, Either, FiberMap, PubSub, Queue, Schedule, Schema, type Scope, Stream } from "effect"
import type { EphemeralBusShape } from "./EphemeralBus.js"

const Speaking = Schema.Union(
  Schema.TaggedStruct("ActiveSpeaker", { spaceId: SpaceId, userId: UserId }),
  Schema.TaggedStruct("AudioLevels", {
    spaceId: SpaceId,
    levels: Schema.Array(Schema.Struct({ userId: UserId, volume: Schema.Number })).pipe(Schema.maxItems(100))
  }),
  Schema.TaggedStruct("Silence", { spaceId: SpaceId })
)
const decodeSpeaking = Schema.decodeUnknownEither(Speaking)
const encodeSpeaking = Schema.encodeSync(Speaking)
const decodeSpace = decodeRecorded(SpaceEvent)

/** Speaking indicators measured on other nodes (where the speakers' producers are). */
export interface RemoteSpeaking {
  readonly subscribe: Effect.Effect<Queue.Dequeue<SpeakingSignal>, never, Scope.Scope>
}

export const makeRemoteSpeaking = (
  bus: EphemeralBusShape
): Effect.Effect<RemoteSpeaking, never, Scope.Scope> =>
  Effect.gen(function* () {
    const local = yield* Effect.acquireRelease(PubSub.sliding<SpeakingSignal>(1024), PubSub.shutdown)
    const remote = yield* bus.subscribe("speaking")
    yield* Queue.take(remote).pipe(
      Effect.flatMap((payload) => {
        const decoded = decodeSpeaking(payload)
        return Either.isRight(decoded) ? PubSub.publish(local, decoded.right) : Effect.void
      }),
      Effect.forever,
      Effect.forkScoped
    )
    return { subscribe: PubSub.subscribe(local) }
  })

const ENDS = new Set(["SpaceEnded", "SpaceCancelled", "SpaceExpired"])

/**
 * Sends this node's speaking indicators to the other nodes: a speaker's audio levels are measured
 * where their producer is (the origin), and listeners on other nodes see them too. One relay per
 * live Space, from the startup scan and the log on; a room not open (yet) is tried again every second.
 */
export const relaySpeaking = (
  plane: Pick<MediaPlaneService, "speaking">,
  bus: EphemeralBusShape,
  liveAtStart: Iterable<SpaceId>,
  log: Queue.Dequeue<RecordedEvent>
) =>
  Effect.gen(function* () {
    const relays = yield* FiberMap.make<SpaceId>()
    const relay = (spaceId: SpaceId) =>
      plane.speaking(spaceId).pipe(
        Stream.runForEach((signal) => bus.publish("speaking", encodeSpeaking(signal))),
        Effect.ignore,
        Effect.repeat(Schedule.spaced("1 second"))
      )
    const start = (spaceId: SpaceId) => FiberMap.run(relays, spaceId, relay(spaceId), { onlyIfMissing: true })
    for (const spaceId of liveAtStart) yield* start(spaceId)
    yield* Stream.fromQueue(log).pipe(
      Stream.filter(
        (r) => r.streamId.startsWith("space-") && (r.type === "SpaceStarted" || ENDS.has(r.type))
      ),
      Stream.runForEach((r) => {
        const decoded = decodeSpace(r)
        if (Either.isLeft(decoded)) return Effect.void
        const e = decoded.right
        return e._tag === "SpaceStarted"
          ? Effect.asVoid(start(e.spaceId))
          : FiberMap.remove(relays, e.spaceId)
      })
    )
  })
