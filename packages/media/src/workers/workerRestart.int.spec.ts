import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"
import * as mediasoup from "mediasoup"
import type { types } from "mediasoup"
import { beforeAll, describe, expect, it } from "vitest"
import type { RoomNotOpen } from "../errors.js"
import { MediaInstruction } from "../instructions.js"
import type { MediaPlaneService } from "../mediaPlane.js"
import type { RoomEvent } from "../signals.js"
import { eventually, requireWorker, withPlane } from "../testing/harness.js"
import { consumeAndResume, plainListener, plainSpeaker, spaceId, userId } from "../testing/peers.js"
import { packetIndex } from "../testing/rtp.js"
import { waitUntil } from "../testing/udp.js"

beforeAll(requireWorker)

const host = userId("host")
const alice = userId("alice")
const bob = userId("bob")

const originPid = (plane: MediaPlaneService, space: ReturnType<typeof spaceId>) =>
  plane.stats(space).pipe(Effect.map((stats) => stats.routers[0]!.workerPid))

/**
 * Runs `collect` over the room's events in a fiber, once that fiber has subscribed: the host's
 * producer is muted and unmuted (each a published event) until the stream has seen one.
 */
const subscribedEvents = <A, E>(
  plane: MediaPlaneService,
  space: ReturnType<typeof spaceId>,
  collect: (events: Stream.Stream<RoomEvent, RoomNotOpen>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const seen = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(
      collect(plane.events(space).pipe(Stream.tap(() => Deferred.succeed(seen, undefined))))
    )
    const ping = Effect.zipRight(
      plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host })),
      plane.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: host }))
    )
    yield* ping.pipe(
      Effect.zipRight(Effect.timeout(Deferred.await(seen), "100 millis")),
      Effect.retry({ times: 100 })
    )
    return fiber
  })

/** Sends 20 packets and waits until the listener has them all. */
const flows = (send: (index: number) => Promise<void>, packets: () => number) =>
  Effect.promise(async () => {
    for (let index = 0; index < 20; index++) await send(index)
    return waitUntil(() => packets() >= 20)
  })

describe("a dead mediasoup worker", () => {
  it("is replaced, and the room that was on it reopens on the replacement", () => {
    const space = spaceId("worker-dies")
    return withPlane(
      { workers: 1, recordingsDir: mkdtempSync(join(tmpdir(), "spaces-restart-")) },
      (plane, authority) =>
        Effect.gen(function* () {
          yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: true }))
          authority.speaker(space, host)
          authority.listener(space, alice)
          yield* plainSpeaker(plane, space, host, 4242)
          const [before] = yield* plane.workers
          expect(before).toBeDefined()
          const events = yield* subscribedEvents(plane, space, Stream.runCollect)

          process.kill(before!.pid, "SIGKILL")

          // The old room's stream ends with the signal that makes clients set up their media again.
          const seen = Chunk.toReadonlyArray(yield* Fiber.join(events)).map((e: RoomEvent) => e._tag)
          expect(seen.at(-1)).toBe("MediaRestarted")
          const after = yield* eventually(plane.workers, (ws) => ws.length === 1)
          expect(after[0]!.pid).not.toBe(before!.pid)
          expect(after[0]!.index).toBe(before!.index)
          yield* eventually(originPid(plane, space), (pid) => pid === after[0]!.pid)
          // Recording carries on in the reopened room.
          expect((yield* plane.stats(space)).recordedSamples).not.toBeNull()

          // Media works again: a new producer, consumed by a listener, carries RTP.
          const speaker = yield* plainSpeaker(plane, space, host, 4243)
          const listener = yield* plainListener(plane, space, alice)
          yield* consumeAndResume(plane, space, listener, speaker.producerId)
          expect(yield* flows(speaker.send, () => listener.endpoint.packets.length)).toBe(true)
          expect(listener.endpoint.packets.map(packetIndex)).toEqual(Array.from({ length: 20 }, (_, i) => i))
        })
    )
  })

  it("that held only listeners' router: the room stays, those listeners are told to reconnect", () => {
    const space = spaceId("listeners-worker-dies")
    return withPlane({ workers: 2, maxConsumersPerRouter: 1 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        authority.speaker(space, host)
        authority.listener(space, alice)
        authority.listener(space, bob)
        const speaker = yield* plainSpeaker(plane, space, host, 5151)
        // One consumer per router: alice fills the origin router, bob goes to the other worker.
        const first = yield* plainListener(plane, space, alice)
        yield* consumeAndResume(plane, space, first, speaker.producerId)
        const second = yield* plainListener(plane, space, bob)
        yield* consumeAndResume(plane, space, second, speaker.producerId)
        const stats = yield* plane.stats(space)
        expect(stats.routers).toHaveLength(2)
        const [origin, piped] = stats.routers
        expect(piped!.workerPid).not.toBe(origin!.workerPid)
        // The pings pause and resume the pipe to bob's router too: a resume still in flight when its
        // worker dies must not be an unhandled rejection (that would end the process).
        const events = yield* subscribedEvents(plane, space, (stream) =>
          stream.pipe(
            Stream.filter((e) => e._tag === "TransportsClosed"),
            Stream.take(1),
            Stream.runCollect
          )
        )

        process.kill(piped!.workerPid, "SIGKILL")

        const [closed] = Chunk.toReadonlyArray(yield* Fiber.join(events))
        expect(closed).toMatchObject({
          _tag: "TransportsClosed",
          userId: bob,
          transportIds: [second.transportId]
        })
        const workers = yield* eventually(plane.workers, (ws) => ws.length === 2)
        expect(workers.map((w) => w.pid)).not.toContain(piped!.workerPid)
        expect((yield* plane.stats(space)).routers.map((r) => r.workerPid)).toEqual([origin!.workerPid])

        // The room never closed: alice still hears the speaker; bob reconnects on a new router.
        const again = yield* plainListener(plane, space, bob)
        yield* consumeAndResume(plane, space, again, speaker.producerId)
        expect(
          yield* flows(speaker.send, () =>
            Math.min(first.endpoint.packets.length, again.endpoint.packets.length)
          )
        ).toBe(true)
      })
    )
  })

  it("ending the Space while its room is reopening leaves no room behind", () => {
    const space = spaceId("ends-while-moving")
    return withPlane({ workers: 1 }, (plane) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        const [worker] = yield* plane.workers
        process.kill(worker!.pid, "SIGKILL")
        yield* eventually(plane.stats(space).pipe(Effect.flip), (e) => e._tag === "MediaRoomNotOpen")
        expect(yield* plane.moving).toEqual([space])
        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))
        // The move is over (whether or not the room had reopened meanwhile): nothing is left of it.
        yield* eventually(plane.moving, (moving) => moving.length === 0)
        expect((yield* Effect.either(plane.stats(space)))._tag).toBe("Left")
      })
    )
  })

  it("whose replacement dies while the room reopens on it: the room moves on to the next one", () => {
    const space = spaceId("replacement-dies")
    return withPlane({ workers: 1 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        authority.speaker(space, host)
        const [first] = yield* plane.workers
        // The replacement dies as soon as the room's router is created on it: the room is then
        // between its router and its speaking observers, which fail with the worker.
        const killed: Array<number> = []
        const killOnFirstRouter = (worker: types.Worker) =>
          worker.observer.once("newrouter", () => {
            killed.push(worker.pid)
            process.kill(worker.pid, "SIGKILL")
          })
        mediasoup.observer.once("newworker", killOnFirstRouter)
        process.kill(first!.pid, "SIGKILL")

        yield* eventually(
          Effect.sync(() => killed),
          (pids) => pids.length === 1
        )
        // The move survives that, and ends with the room on a third worker.
        yield* eventually(plane.moving, (moving) => moving.length === 0)
        const [third] = yield* plane.workers
        expect([first!.pid, ...killed]).not.toContain(third!.pid)
        expect(yield* originPid(plane, space)).toBe(third!.pid)
        yield* plainSpeaker(plane, space, host, 6161)
        expect((yield* plane.stats(space)).producers).toBe(1)
      })
    )
  })
})
