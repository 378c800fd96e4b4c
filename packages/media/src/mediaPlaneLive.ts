import { Deferred, Effect, FiberSet, Layer, PubSub, Stream } from "effect"
import { SpeakerAuthority } from "./authority.js"
import { type MediaConfig, mediaConfig } from "./config.js"
import type { MediaUnavailable } from "./errors.js"
import { MediaPlane, type MediaPlaneService } from "./mediaPlane.js"
import { makeAuthorisation } from "./plane/authorisation.js"
import { makeRoomLifecycle } from "./plane/lifecycle.js"
import { makeNodePipes } from "./plane/nodePipes.js"
import { makeApply } from "./plane/orders.js"
import { makeTaps } from "./plane/taps.js"
import { makeTransports } from "./plane/transports.js"
import type { RoomEvent } from "./signals.js"
import { makeWorkerPool, workerLoad } from "./workers/workerPool.js"

/** The last event of a room's stream: the Space ended, or its media moved to a new room. */
const isLastEvent = (event: RoomEvent) => event._tag === "RoomClosed" || event._tag === "MediaRestarted"

/**
 * The media plane put together: the worker pool, the rooms' lifecycle (`plane/lifecycle.ts`) driven
 * by the domain's orders (`plane/orders.ts`), the clients' signalling (`plane/transports.ts`,
 * placed by `plane/placement.ts`, checked by `plane/authorisation.ts`), the taps (`plane/taps.ts`)
 * and the read-only views below.
 */
const make = (config: MediaConfig) =>
  Effect.gen(function* () {
    const access = makeAuthorisation(yield* SpeakerAuthority)
    const pool = yield* makeWorkerPool(config)
    // Work started by mediasoup's events (a router closing) runs here, interrupted on shutdown.
    const runFork = yield* FiberSet.makeRuntime<never>()
    const lifecycle = makeRoomLifecycle(config, pool, runFork)
    yield* Effect.addFinalizer(() => lifecycle.closeAll)
    const { roomOf } = lifecycle

    const service: MediaPlaneService = {
      apply: makeApply(lifecycle),
      ...makeTransports(config, pool, lifecycle, access),
      ...makeTaps(config, lifecycle),
      ...makeNodePipes(config, lifecycle),

      rtpCapabilities: (caller) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          yield* access.mayListen(caller)
          return room.origin.router.rtpCapabilities
        }),

      producers: (spaceId) => roomOf(spaceId).pipe(Effect.map(({ room }) => room.producerInfos())),

      producersFor: (caller) =>
        Effect.gen(function* () {
          const { room } = yield* roomOf(caller.spaceId)
          yield* access.mayListen(caller)
          return room.producerInfos()
        }),

      events: (spaceId) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const { room } = yield* roomOf(spaceId)
            const subscription = yield* PubSub.subscribe(room.events)
            return Stream.fromQueue(subscription).pipe(Stream.takeUntil(isLastEvent))
          })
        ),

      speaking: (spaceId) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            const { room } = yield* roomOf(spaceId)
            const subscription = yield* PubSub.subscribe(room.speaking)
            return Stream.fromQueue(subscription).pipe(
              Stream.interruptWhen(Deferred.await(room.closedSignal))
            )
          })
        ),

      stats: (spaceId) =>
        roomOf(spaceId).pipe(
          Effect.map(({ room, recorder }) => ({
            ...room.stats(),
            recordedSamples: recorder?.samples() ?? null
          }))
        ),

      moving: Effect.sync(() => [...lifecycle.moves.keys()]),

      workers: Effect.sync(() =>
        pool.workers().map((pooled) => ({
          index: pooled.index,
          pid: pooled.worker.pid,
          routers: pooled.placed.size,
          load: workerLoad(pooled)
        }))
      )
    }
    return service
  })

/** The media plane over real mediasoup workers, started and stopped with the layer's scope. */
export const MediaPlaneLive = (
  overrides: Partial<MediaConfig> = {}
): Layer.Layer<MediaPlane, MediaUnavailable, SpeakerAuthority> =>
  Layer.scoped(MediaPlane, make(mediaConfig(overrides)))
