import { Effect } from "effect"
import * as mediasoup from "mediasoup"
import type { types } from "mediasoup"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "../instructions.js"
import type { MediaPlaneService } from "../mediaPlane.js"
import { eventually, loggedEvents, requireWorker, withPlane } from "../testing/harness.js"
import { consumeAndResume, plainListener, plainSpeaker, spaceId, userId } from "../testing/peers.js"
import { waitUntil } from "../testing/udp.js"

beforeAll(requireWorker)

const host = userId("host")
const alice = userId("alice")
const bob = userId("bob")

const notOpen = (plane: MediaPlaneService, space: ReturnType<typeof spaceId>) =>
  Effect.either(plane.stats(space)).pipe(
    Effect.map((answer) => answer._tag === "Left" && answer.left._tag === "MediaRoomNotOpen")
  )

describe("a Space started while no mediasoup worker can hold its room", () => {
  it("gets its room once a worker is back; orders given meanwhile hold", () => {
    const space = spaceId("opens-late")
    return withPlane({ workers: 1 }, (plane, authority, logs) =>
      Effect.gen(function* () {
        authority.speaker(space, host)
        authority.listener(space, alice)
        authority.listener(space, bob)
        const [dead] = yield* plane.workers

        // The only worker is gone when the Space starts: the first try fails for real.
        process.kill(dead!.pid, "SIGKILL")
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))

        // `apply` did not wait for a replacement: the room opens in the background.
        expect(yield* plane.moving).toEqual([space])
        expect(yield* notOpen(plane, space)).toBe(true)
        expect(loggedEvents(logs)).toContain("media.room.open-failed")
        // The domain mutes the host and removes bob meanwhile: no room yet, nothing to do now;
        // the room, once open, asks the domain (the authority) again.
        authority.speaker(space, host, true)
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        authority.remove(space, bob)
        yield* plane.apply(MediaInstruction.ParticipantRemoved({ spaceId: space, userId: bob }))

        yield* eventually(plane.moving, (moving) => moving.length === 0)
        const [replacement] = yield* plane.workers
        expect(replacement!.pid).not.toBe(dead!.pid)
        expect((yield* plane.stats(space)).routers.map((r) => r.workerPid)).toEqual([replacement!.pid])
        expect(loggedEvents(logs)).toContain("media.room.opened")

        const speaker = yield* plainSpeaker(plane, space, host, 7171)
        expect(yield* plane.producers(space)).toEqual([
          { producerId: speaker.producerId, userId: host, paused: true }
        ])
        const listener = yield* plainListener(plane, space, alice)
        yield* consumeAndResume(plane, space, listener, speaker.producerId)
        const refused = yield* Effect.flip(plainListener(plane, space, bob))
        expect(refused._tag).toBe("MediaNotAParticipant")

        // Unmuted, the host is heard: the room carries media.
        authority.speaker(space, host, false)
        yield* plane.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: host }))
        const heard = yield* Effect.promise(async () => {
          for (let index = 0; index < 20; index++) await speaker.send(index)
          return waitUntil(() => listener.endpoint.packets.length >= 20)
        })
        expect(heard).toBe(true)
      })
    )
  })

  it("whose worker dies while the room opens: the room opens on the next one", () => {
    const space = spaceId("worker-dies-while-opening")
    return withPlane({ workers: 1 }, (plane, _authority, logs) =>
      Effect.gen(function* () {
        // Only workers started from now on can be watched: the first is replaced by one that
        // dies as soon as a router is created on it, i.e. while the Space's room is opening.
        const doomed: Array<number> = []
        mediasoup.observer.once("newworker", (worker: types.Worker) => {
          doomed.push(worker.pid)
          worker.observer.once("newrouter", () => process.kill(worker.pid, "SIGKILL"))
        })
        const [first] = yield* plane.workers
        process.kill(first!.pid, "SIGKILL")
        yield* eventually(plane.workers, (ws) => ws.length === 1 && doomed.includes(ws[0]!.pid))

        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))

        expect(yield* plane.moving).toEqual([space])
        yield* eventually(plane.moving, (moving) => moving.length === 0)
        const [third] = yield* plane.workers
        expect([first!.pid, ...doomed]).not.toContain(third!.pid)
        expect((yield* plane.stats(space)).routers.map((r) => r.workerPid)).toEqual([third!.pid])
        expect(loggedEvents(logs).filter((event) => String(event).startsWith("media.room."))).toEqual([
          "media.room.open-failed",
          "media.room.opened"
        ])
      })
    )
  })

  it("and ended while its room waits: the wait stops and no room opens", () => {
    const space = spaceId("ends-while-opening")
    return withPlane({ workers: 1 }, (plane, _authority, logs) =>
      Effect.gen(function* () {
        const [dead] = yield* plane.workers
        process.kill(dead!.pid, "SIGKILL")
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: true }))
        expect(yield* plane.moving).toEqual([space])

        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))

        yield* eventually(plane.moving, (moving) => moving.length === 0)
        expect(loggedEvents(logs)).toContain("media.room.open-cancelled")
        // The wait is over for good: with a worker back, the Space still has no room.
        yield* eventually(plane.workers, (ws) => ws.length === 1 && ws[0]!.pid !== dead!.pid)
        expect(yield* notOpen(plane, space)).toBe(true)
        expect(loggedEvents(logs)).not.toContain("media.room.opened")
      })
    )
  })
})
