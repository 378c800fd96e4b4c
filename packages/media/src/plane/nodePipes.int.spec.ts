import { Effect, Layer } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "../instructions.js"
import { MediaPlane } from "../mediaPlane.js"
import { MediaPlaneLive } from "../mediaPlaneLive.js"
import { testAuthority } from "../testing/authority.js"
import { requireWorker } from "../testing/harness.js"
import { consumeAndResume, plainListener, plainSpeaker, spaceId, userId } from "../testing/peers.js"
import { waitUntil } from "../testing/udp.js"

const space = spaceId("piped")
const speakerId = userId("spk")

/** Two nodes' media planes (a worker each), the origin's producer piped to the edge. */
describe("pipes between nodes (real workers)", () => {
  beforeAll(requireWorker)

  it("carries a speaker's RTP to an edge's listener, stops it on a mute, closes with the producer", async () => {
    const authority = testAuthority()
    const plane = (min: number) =>
      Layer.build(
        MediaPlaneLive({ workers: 1, logLevel: "error", rtcMinPort: min, rtcMaxPort: min + 999 }).pipe(
          Layer.provide(authority.layer)
        )
      ).pipe(Effect.map((ctx) => ctx.unsafeMap.get(MediaPlane.key) as typeof MediaPlane.Service))
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const origin = yield* plane(36_000)
          const edge = yield* plane(37_000)
          for (const p of [origin, edge])
            yield* p.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
          authority.speaker(space, speakerId)
          authority.listener(space, userId("far"))
          const speaker = yield* plainSpeaker(origin, space, speakerId, 5151)
          // Nothing to consume on the edge before the pipe.
          const listener = yield* plainListener(edge, space, userId("far"))
          const before = yield* Effect.either(consumeAndResume(edge, space, listener, speaker.producerId))
          expect(before._tag).toBe("Left")

          const end = yield* edge.openEdgePipe(space)
          const offer = yield* origin.pipeOut(space, speaker.producerId, end)
          expect(offer).toMatchObject({ producerId: speaker.producerId, userId: "spk", paused: false })
          expect(offer.srtpParameters).toBeDefined() // pipes between hosts are encrypted
          yield* edge.completeEdgePipe(space, end.pipeId, offer)
          // An edge never pipes out what it received (no loops), and does not list it as its own.
          expect((yield* Effect.either(edge.pipeOut(space, speaker.producerId, end)))._tag).toBe("Left")
          expect(yield* edge.producers(space)).toEqual([])
          yield* consumeAndResume(edge, space, listener, speaker.producerId)
          expect(yield* edge.edgePipes).toEqual([
            { spaceId: space, pipeId: end.pipeId, producerId: speaker.producerId, consumers: 1 }
          ])

          let index = 0
          const timer = setInterval(() => void speaker.send(index++).catch(() => undefined), 20)
          try {
            const arrived = yield* Effect.promise(() =>
              waitUntil(() => listener.endpoint.packets.length >= 20)
            )
            expect(arrived).toBe(true)
            // A mute on the origin: the pipe stops, the edge's listener hears nothing more.
            yield* origin.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: speakerId }))
            const quiet = yield* Effect.promise(async () => {
              for (let tries = 0; tries < 50; tries++) {
                const count = listener.endpoint.packets.length
                await new Promise((r) => setTimeout(r, 300))
                if (listener.endpoint.packets.length === count) return true
              }
              return false
            })
            expect(quiet).toBe(true)
            yield* origin.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: speakerId }))
            const resumedFrom = listener.endpoint.packets.length
            const again = yield* Effect.promise(() =>
              waitUntil(() => listener.endpoint.packets.length >= resumedFrom + 10)
            )
            expect(again).toBe(true)
            // The speaker is removed on the origin: its pipe out closes.
            yield* origin.apply(MediaInstruction.ParticipantRemoved({ spaceId: space, userId: speakerId }))
            const closed = yield* Effect.promise(() =>
              waitUntil(() => Effect.runSync(origin.pipeOuts).length === 0)
            )
            expect(closed).toBe(true)
            // The edge follows the same order from its own log: the piped track goes there too.
            yield* edge.apply(MediaInstruction.ParticipantRemoved({ spaceId: space, userId: speakerId }))
            expect((yield* edge.edgePipes)[0]?.consumers).toBe(0)
            yield* edge.closeEdgePipe(end.pipeId)
            expect(yield* edge.edgePipes).toEqual([])
          } finally {
            clearInterval(timer)
            yield* Effect.promise(() => speaker.endpoint.close())
            yield* Effect.promise(() => listener.endpoint.close())
          }
        })
      )
    )
  })
})
