import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "./instructions.js"
import { requireWorker, withPlane } from "./testing/harness.js"
import {
  consumeAndResume,
  plainListener,
  plainSpeaker,
  spaceId,
  type TestListener,
  userId
} from "./testing/peers.js"
import { packetIndex } from "./testing/rtp.js"
import { sleep, waitUntil } from "./testing/udp.js"

const space = spaceId("big-space")
const host = userId("host")
const range = (count: number) => Array.from({ length: count }, (_, i) => i)

beforeAll(requireWorker)

/** Listener ids listener-0 … listener-(n-1), each allowed to listen by the authority. */
const listenersOf = (n: number) => range(n).map((i) => userId(`listener-${i}`))

const expectAllInOrder = (listeners: ReadonlyArray<TestListener>, count: number) => {
  const incomplete = listeners.filter((l) => l.endpoint.packets.length !== count)
  expect(incomplete.map((l) => `${l.userId}: ${l.endpoint.packets.length}`)).toEqual([])
  for (const listener of listeners) {
    expect(listener.endpoint.packets.map(packetIndex)).toEqual(range(count))
  }
}

describe("fan-out", () => {
  it("one speaker to 200 listeners on one worker: every listener gets every packet, in order", () =>
    withPlane({ workers: 1 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        authority.speaker(space, host)
        const users = listenersOf(200)
        for (const user of users) authority.listener(space, user)
        const speaker = yield* plainSpeaker(plane, space, host, 42)
        const listeners = yield* Effect.forEach(users, (user) =>
          Effect.tap(plainListener(plane, space, user), (listener) =>
            consumeAndResume(plane, space, listener, speaker.producerId)
          )
        )
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
        const users = listenersOf(16)
        for (const user of users) authority.listener(space, user)
        const first = yield* plainSpeaker(plane, space, host, 1001)
        const listeners = yield* Effect.forEach(users, (user) =>
          Effect.tap(plainListener(plane, space, user), (listener) =>
            consumeAndResume(plane, space, listener, first.producerId)
          )
        )
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
          expect([...bySsrc.values()]).toEqual([range(30), range(30)])
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
