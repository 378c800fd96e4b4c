import { Effect } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { RoomNotOpen } from "../errors.js"
import { pipeToRouterOptions, routerOptions } from "../mediasoupOptions.js"
import type { Room, RouterSlot } from "../room/room.js"
import type { Direction } from "../signalling.js"
import type { WorkerPool } from "../workers/workerPool.js"
import { call } from "./mediasoupCalls.js"

/**
 * mediasoup 3.12's pipeToRouter forwards the pipe consumer's pause and resume to the pipe producer
 * and drops the promise: if the producer's worker dies with that request in flight, the rejection
 * is unhandled, which ends the Node process. The same forwarding, with the rejection handled.
 */
const forwardPauses = (consumer: types.Consumer | undefined, producer: types.Producer | undefined) => {
  if (consumer === undefined || producer === undefined) return
  consumer.observer.removeAllListeners("pause")
  consumer.observer.removeAllListeners("resume")
  consumer.observer.on("pause", () => void producer.pause().catch(() => undefined))
  consumer.observer.on("resume", () => void producer.resume().catch(() => undefined))
}

/** Pipes a producer from the origin router to another router of the room (another worker). */
export const pipeToSlot = (room: Room, producerId: string, slot: RouterSlot) =>
  call(room, () => room.origin.router.pipeToRouter(pipeToRouterOptions(producerId, slot.router))).pipe(
    Effect.tap(({ pipeConsumer, pipeProducer }) =>
      Effect.sync(() => forwardPauses(pipeConsumer, pipeProducer))
    ),
    // The producer may have closed meanwhile; consumers of it then fail with UnknownProducer.
    Effect.catchTag("MediaIncompatibleMedia", "MediaUnavailable", (error) =>
      Effect.logWarning("pipeToRouter failed", error)
    )
  )

/** A new producer on the origin router, piped to every other router of the room. */
export const pipeToAllSlots = (room: Room, producerId: string) =>
  Effect.forEach(room.slots.slice(1), (slot) => pipeToSlot(room, producerId, slot), { discard: true })

/**
 * Where a new transport goes: speakers on the origin router (their producers live there);
 * listeners on the least-loaded router of the room, or on a new router on another worker
 * (fed through pipeToRouter) once every router of the room is full.
 */
export const placeTransport = (room: Room, direction: Direction, config: MediaConfig, pool: WorkerPool) =>
  Effect.gen(function* () {
    if (direction === "send") return room.origin
    let best = room.origin
    for (const slot of room.slots) if (slot.load() < best.load()) best = slot
    const perListener = Math.max(1, room.producers.size)
    if (best.load() + perListener <= config.maxConsumersPerRouter) return best
    const used = new Set(room.slots.map((slot) => slot.pooled))
    const pooled = pool.leastLoaded(used)
    if (pooled === undefined) return best
    const router = yield* call(room, () => pooled.worker.createRouter(routerOptions))
    if (room.closed) {
      router.close()
      return yield* new RoomNotOpen({ spaceId: room.spaceId })
    }
    // Its worker died while the router was being created: its close event (which drops the
    // slot) has fired already, so the router must not become a slot; the room's own will do.
    if (router.closed) return best
    const slot = room.addSlot(router, pooled)
    for (const producerId of room.producers.keys()) yield* pipeToSlot(room, producerId, slot)
    return slot
  })
