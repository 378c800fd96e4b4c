import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "./instructions.js"
import type { MediaPlaneService } from "./mediaPlane.js"
import { requireWorker, type TestAuthority, withPlane } from "./testing/harness.js"
import {
  consumeAndResume,
  plainListener,
  plainSpeaker,
  range,
  spaceId,
  type TestListener,
  userId
} from "./testing/peers.js"
import { packetIndex } from "./testing/rtp.js"
import { sleep, waitUntil } from "./testing/udp.js"

const space = spaceId("big-space")
const host = userId("host")

beforeAll(requireWorker)

/** Listener ids listener-0 … listener-(n-1), each allowed to listen by the authority. */
const listenersOf = (n: number) => range(0, n).map((i) => userId(`listener-${i}`))

/** `n` listeners, each allowed by the authority, with a plain transport consuming `producerId`. */
const audience = (plane: MediaPlaneService, authority: TestAuthority, n: number, producerId: string) =>
  Effect.forEach(listenersOf(n), (user) => {
    authority.listener(space, user)
    return Effect.tap(plainListener(plane, space, user), (listener) =>
      consumeAndResume(plane, space, listener, producerId)
    )
  })

const expectAllInOrder = (listeners: ReadonlyArray<TestListener>, count: number) => {
  const incomplete = listeners.filter((l) => l.endpoint.packets.length !== count)
  expect(incomplete.map((l) => `${l.userId}: ${l.endpoint.packets.length}`)).toEqual([])
  for (const listener of listeners) {
    expect(listener.endpoint.packets.map(packetIndex)).toEqual(range(0, count))
  }
}

describe("fan-out", () => {
  it("one speaker to 200 listeners on one worker: every listener gets every packet, in order", () =>
    withPlane({ workers: 1 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        authority.speaker(space, host)
        const speaker = yield* plainSpeaker(plane, space, host, 42)
        const listeners = yield* audience(plane, authority, 200, speaker.producerId)
        const stats = yield* plane.stats(space)
        expect(stats.routers).toHaveLength(1)
        expect(stats.routers[0]?.consumers).toBe(200)

        // 100 packets at the real cadence of one Opus track (20 ms).
        yield* Effect.promise(async () => {
          for (let index = 0; index < 100; index++) {
            await speaker.send(index)
            await sleep(20)
          }
        })
        yield* Effect.promise(() =>
          waitUntil(() => listeners.every((l) => l.endpoint.packets.length >= 100), 20_000)
        )
        expectAllInOrder(listeners, 100)
        yield* Effect.promise(() => Promise.all(listeners.map((l) => l.endpoint.close())))
      })
    ))

  it("spreads a large audience over workers with pipeToRouter, for producers before and after", () =>
    withPlane({ workers: 2, maxConsumersPerRouter: 10 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        const late = userId("late-speaker")
        authority.speaker(space, host)
        authority.speaker(space, late)
        const first = yield* plainSpeaker(plane, space, host, 1001)
        const listeners = yield* audience(plane, authority, 16, first.producerId)
        const stats = yield* plane.stats(space)
        expect(stats.routers).toHaveLength(2)
        expect(new Set(stats.routers.map((r) => r.workerPid)).size).toBe(2)
        expect(stats.routers.map((r) => r.recvTransports)).toEqual([10, 6])

        // A speaker who starts after the audience was spread is piped to the second router too.
        const second = yield* plainSpeaker(plane, space, late, 1002)
        for (const listener of listeners) yield* consumeAndResume(plane, space, listener, second.producerId)

        yield* Effect.promise(async () => {
          for (let index = 0; index < 30; index++) {
            await first.send(index)
            await second.send(index)
            await sleep(5)
          }
        })
        yield* Effect.promise(() => waitUntil(() => listeners.every((l) => l.endpoint.packets.length >= 60)))
        for (const listener of listeners) {
          const bySsrc = new Map<number, Array<number>>()
          for (const packet of listener.endpoint.packets) {
            bySsrc.set(packet.ssrc, [...(bySsrc.get(packet.ssrc) ?? []), packetIndex(packet)])
          }
          expect([...bySsrc.values()]).toEqual([range(0, 30), range(0, 30)])
        }

        // Muting propagates through the pipe: the piped producer pauses too.
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        yield* Effect.promise(async () => {
          for (let index = 30; index < 40; index++) await first.send(index)
          for (let index = 30; index < 40; index++) await second.send(index)
        })
        yield* Effect.promise(() => waitUntil(() => listeners.every((l) => l.endpoint.packets.length >= 70)))
        for (const listener of listeners) expect(listener.endpoint.packets.length).toBe(70)
        yield* Effect.promise(() => Promise.all(listeners.map((l) => l.endpoint.close())))
      })
    ))
})
