import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "./instructions.js"
import { requireWorker, withPlane } from "./testing/harness.js"
import { plainSpeaker, range, sendRange, spaceId, userId } from "./testing/peers.js"
import { packetIndex } from "./testing/rtp.js"
import { type UdpEndpoint, udpEndpoint, waitUntil } from "./testing/udp.js"

const space = spaceId("tapped")
const host = userId("host")

beforeAll(requireWorker)

/** Bounded wait for arrival (never a speed check): the assertions after it say what arrived. */
const arrived = (endpoint: UdpEndpoint, count: number) =>
  Effect.promise(() => waitUntil(() => endpoint.packets.length >= count))

/** The remote tap an external transcriber asks for: a producer's RTP sent to its UDP socket. */
describe("remote media taps (real worker)", () => {
  it("sends a speaker's RTP to the given address, nothing while muted, nothing once closed", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
        authority.speaker(space, host)
        const speaker = yield* plainSpeaker(plane, space, host, 7777)
        const first = yield* Effect.promise(() => udpEndpoint())
        const second = yield* Effect.promise(() => udpEndpoint())

        const tap = yield* plane.tapAudioTo(space, speaker.producerId, { ip: first.ip, port: first.port })
        expect(tap).toMatchObject({ producerId: speaker.producerId, userId: host })
        yield* sendRange(speaker.send, 0, 10)
        yield* arrived(first, 10)
        expect(first.packets.every((p) => p.ssrc === tap.ssrc && p.payloadType === tap.payloadType)).toBe(
          true
        )

        // Muted: the producer is paused and the tap gets nothing.
        authority.speaker(space, host, true)
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        yield* sendRange(speaker.send, 10, 20)
        authority.speaker(space, host, false)
        yield* plane.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: host }))
        yield* sendRange(speaker.send, 20, 30)
        yield* arrived(first, 20)
        expect(first.packets.map(packetIndex)).toEqual([...range(0, 10), ...range(20, 30)])

        // Closed: a second tap (opened after) gets what the first no longer does.
        yield* plane.closeRemoteTap(space, tap.tapId)
        const again = yield* plane.closeRemoteTap(space, tap.tapId).pipe(Effect.flip)
        expect(again._tag).toBe("MediaUnknownTransport")
        const other = yield* plane.tapAudioTo(space, speaker.producerId, { ip: second.ip, port: second.port })
        yield* sendRange(speaker.send, 30, 40)
        yield* arrived(second, 10)
        expect(second.packets.map(packetIndex)).toEqual(range(30, 40))
        expect(first.packets).toHaveLength(20)

        // Another Space's tap id is not this one's; an unknown producer is refused.
        const elsewhere = yield* plane.closeRemoteTap(spaceId("other"), other.tapId).pipe(Effect.flip)
        expect(elsewhere._tag).toBe("MediaUnknownTransport")
        const unknown = yield* plane
          .tapAudioTo(space, "no-such-producer", { ip: second.ip, port: second.port })
          .pipe(Effect.flip)
        expect(unknown._tag).toBe("MediaUnknownProducer")
        yield* Effect.promise(() => Promise.all([first.close(), second.close(), speaker.endpoint.close()]))
      })
    ))
})
