import { Chunk, Effect, Fiber, Stream } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "./instructions.js"
import type { MediaPlaneService } from "./mediaPlane.js"
import { openRoom, requireWorker, type TestAuthority, withPlane } from "./testing/harness.js"
import {
  consumeAndResume,
  plainListener,
  plainSpeaker,
  range,
  sendRange,
  spaceId,
  type TestListener,
  type TestSpeaker,
  userId
} from "./testing/peers.js"
import { opusRtpParameters, packetIndex } from "./testing/rtp.js"
import { sleep, waitUntil } from "./testing/udp.js"

const space = spaceId("space-1")
const host = userId("host")
const alice = userId("alice")
const bob = userId("bob")
const carol = userId("carol")

beforeAll(requireWorker)

const indexes = (listener: TestListener) => listener.endpoint.packets.map(packetIndex)

/** Bounded wait for arrival (never a speed check): the assertions after it say what arrived. */
const arrived = (listeners: ReadonlyArray<TestListener>, count: number) =>
  Effect.promise(() => waitUntil(() => listeners.every((l) => l.endpoint.packets.length >= count)))

/** An open room where the host speaks (RTP from `ssrc`) and Alice listens, her consumer resumed. */
const hostHeardByAlice = (plane: MediaPlaneService, authority: TestAuthority, ssrc: number) =>
  Effect.gen(function* () {
    yield* openRoom(plane, authority, space, { speakers: [host], listeners: [alice] })
    const speaker = yield* plainSpeaker(plane, space, host, ssrc)
    const listener = yield* plainListener(plane, space, alice)
    yield* consumeAndResume(plane, space, listener, speaker.producerId)
    return { speaker, listener }
  })

/** Sends packets 10..19: the listener, which got none before, receives exactly those. */
const receivesOnlyFrom10 = (speaker: TestSpeaker, listener: TestListener) =>
  Effect.gen(function* () {
    yield* sendRange(speaker.send, 10, 20)
    yield* arrived([listener], 10)
    expect(indexes(listener)).toEqual(range(10, 20))
  })

/** The domain unmutes the host: the authority says so, then the plane is told. */
const unmuteHost = (plane: MediaPlaneService, authority: TestAuthority) => {
  authority.speaker(space, host, false)
  return plane.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: host }))
}

describe("MediaPlane over a real mediasoup worker", () => {
  it("forwards a speaker's RTP to every listener, in order and complete", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        for (const user of [alice, bob, carol]) authority.listener(space, user)
        const speaker = yield* plainSpeaker(plane, space, host, 1111)
        const listeners = [
          yield* plainListener(plane, space, alice),
          yield* plainListener(plane, space, bob),
          yield* plainListener(plane, space, carol)
        ]
        const consumers = yield* Effect.forEach(listeners, (listener) =>
          consumeAndResume(plane, space, listener, speaker.producerId)
        )

        yield* sendRange(speaker.send, 0, 50)
        yield* arrived(listeners, 50)

        listeners.forEach((listener, i) => {
          expect(indexes(listener)).toEqual(range(0, 50))
          const consumer = consumers[i]!
          const packets = listener.endpoint.packets
          expect(packets.every((p) => p.ssrc === consumer.rtpParameters.encodings?.[0]?.ssrc)).toBe(true)
          expect(packets.every((p) => p.payloadType === consumer.rtpParameters.codecs[0]?.payloadType)).toBe(
            true
          )
          // The SFU rewrites sequence numbers per consumer but keeps them consecutive.
          const first = packets[0]!.sequenceNumber
          expect(packets.map((p) => p.sequenceNumber)).toEqual(range(0, 50).map((k) => (first + k) & 0xffff))
        })
        expect(yield* plane.producers(space)).toEqual([
          { producerId: speaker.producerId, userId: host, paused: false }
        ])
      })
    ))

  it("offers a new speaker's producer to the room and consumers start paused", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host], listeners: [alice] })
        const events = yield* Stream.runCollect(plane.events(space).pipe(Stream.take(1))).pipe(Effect.fork)
        yield* Effect.promise(() => sleep(20)) // let the subscriber attach before the producer appears
        const speaker = yield* plainSpeaker(plane, space, host, 2222)
        const [event] = Chunk.toReadonlyArray(yield* Fiber.join(events))
        expect(event).toEqual({
          _tag: "NewProducer",
          spaceId: space,
          userId: host,
          producerId: speaker.producerId,
          paused: false
        })

        const listener = yield* plainListener(plane, space, alice)
        const caller = { spaceId: space, userId: alice }
        const consumer = yield* plane.consume(
          caller,
          listener.transportId,
          speaker.producerId,
          yield* plane.rtpCapabilities(caller)
        )
        expect(consumer.paused).toBe(true)
        // Paused: nothing is forwarded until the client says it is ready.
        yield* sendRange(speaker.send, 0, 10)
        yield* plane.resumeConsumer(caller, consumer.consumerId)
        yield* receivesOnlyFrom10(speaker, listener)
      })
    ))

  it("a mute pauses the producer (nothing forwarded) and an unmute resumes it", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        const { speaker, listener } = yield* hostHeardByAlice(plane, authority, 3333)

        yield* sendRange(speaker.send, 0, 20)
        yield* arrived([listener], 20)
        authority.speaker(space, host, true)
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        expect((yield* plane.producers(space))[0]?.paused).toBe(true)
        yield* sendRange(speaker.send, 20, 40)
        yield* unmuteHost(plane, authority)
        yield* sendRange(speaker.send, 40, 60)
        yield* arrived([listener], 40)
        // UDP on loopback keeps order: packets sent while muted would have arrived before 40..59.
        expect(indexes(listener)).toEqual([...range(0, 20), ...range(40, 60)])
      })
    ))

  it("a muted speaker's new producer starts paused", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space)
        authority.speaker(space, host, true)
        authority.listener(space, alice)
        const speaker = yield* plainSpeaker(plane, space, host, 4444)
        expect(yield* plane.producers(space)).toEqual([
          { producerId: speaker.producerId, userId: host, paused: true }
        ])
        const listener = yield* plainListener(plane, space, alice)
        yield* consumeAndResume(plane, space, listener, speaker.producerId)
        yield* sendRange(speaker.send, 0, 10)
        yield* unmuteHost(plane, authority)
        yield* receivesOnlyFrom10(speaker, listener)
      })
    ))

  it("revoking a speaker closes their producer and send transport; other speakers go on", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host, bob], listeners: [alice] })
        const hostSpeaker = yield* plainSpeaker(plane, space, host, 5555)
        const bobSpeaker = yield* plainSpeaker(plane, space, bob, 5556)
        const listener = yield* plainListener(plane, space, alice)
        yield* consumeAndResume(plane, space, listener, bobSpeaker.producerId)
        yield* consumeAndResume(plane, space, listener, hostSpeaker.producerId)
        yield* sendRange(bobSpeaker.send, 0, 10)
        yield* arrived([listener], 10)
        // All packets so far are Bob's: his consumer's ssrc tells his packets from the host's.
        const bobSsrc = listener.endpoint.packets[0]!.ssrc

        // Bob steps down.
        authority.listener(space, bob)
        yield* plane.apply(MediaInstruction.SpeakerRevoked({ spaceId: space, userId: bob }))
        expect((yield* plane.producers(space)).map((p) => p.userId)).toEqual([host])
        const closed = yield* plane
          .closeTransport({ spaceId: space, userId: bob }, bobSpeaker.transportId)
          .pipe(Effect.flip)
        expect(closed._tag).toBe("MediaUnknownTransport")
        // Producing again is refused: the authority now says Bob is a listener.
        const refused = yield* plane
          .createPlainTransport({ spaceId: space, userId: bob }, "send")
          .pipe(Effect.flip)
        expect(refused._tag).toBe("MediaNotASpeaker")

        // Bob's packets now go nowhere; the host's (sent after them) still arrive.
        yield* sendRange(bobSpeaker.send, 10, 20)
        yield* sendRange(hostSpeaker.send, 0, 10)
        yield* arrived([listener], 20)
        const bobCount = listener.endpoint.packets.filter((p) => p.ssrc === bobSsrc).length
        expect(bobCount).toBe(10)
        expect(listener.endpoint.packets.filter((p) => p.ssrc !== bobSsrc).map(packetIndex)).toEqual(
          range(0, 10)
        )
      })
    ))

  it("removing or losing a participant closes all their transports", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host], listeners: [alice, bob] })
        const speaker = yield* plainSpeaker(plane, space, host, 6666)
        const removed = yield* plainListener(plane, space, alice)
        const staying = yield* plainListener(plane, space, bob)
        yield* consumeAndResume(plane, space, removed, speaker.producerId)
        yield* consumeAndResume(plane, space, staying, speaker.producerId)
        yield* sendRange(speaker.send, 0, 10)
        yield* arrived([removed, staying], 10)

        authority.remove(space, alice)
        yield* plane.apply(MediaInstruction.ParticipantRemoved({ spaceId: space, userId: alice }))
        expect((yield* plane.stats(space)).routers[0]?.recvTransports).toBe(1)
        const rejoin = yield* plane
          .createPlainTransport({ spaceId: space, userId: alice }, "recv")
          .pipe(Effect.flip)
        expect(rejoin._tag).toBe("MediaNotAParticipant")

        yield* sendRange(speaker.send, 10, 20)
        yield* arrived([staying], 20)
        expect(indexes(staying)).toEqual(range(0, 20))
        expect(indexes(removed)).toEqual(range(0, 10))

        // A speaker who leaves loses their producer too.
        yield* plane.apply(MediaInstruction.ParticipantLeft({ spaceId: space, userId: host }))
        expect(yield* plane.producers(space)).toEqual([])
        expect((yield* plane.stats(space)).routers[0]?.consumers).toBe(0)
      })
    ))

  it("refuses a producer for a user the authority calls a listener, with NotASpeaker", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { listeners: [alice] })
        const caller = { spaceId: space, userId: alice }
        const noTransport = yield* plane.createPlainTransport(caller, "send").pipe(Effect.flip)
        expect(noTransport).toMatchObject({ _tag: "MediaNotASpeaker", spaceId: space, userId: alice })

        // A speaker demoted between creating the transport and producing is refused too.
        authority.speaker(space, bob)
        const transport = yield* plane.createPlainTransport({ spaceId: space, userId: bob }, "send")
        authority.listener(space, bob)
        const refused = yield* plane
          .produce({ spaceId: space, userId: bob }, transport.transportId, opusRtpParameters(7777))
          .pipe(Effect.flip)
        expect(refused._tag).toBe("MediaNotASpeaker")
        expect(yield* plane.producers(space)).toEqual([])

        // A stranger may not even listen; an unknown room is RoomNotOpen.
        const stranger = yield* plane.rtpCapabilities({ spaceId: space, userId: carol }).pipe(Effect.flip)
        expect(stranger._tag).toBe("MediaNotAParticipant")
        const closedRoom = yield* plane
          .rtpCapabilities({ spaceId: spaceId("nope"), userId: alice })
          .pipe(Effect.flip)
        expect(closedRoom._tag).toBe("MediaRoomNotOpen")
      })
    ))

  it("SpaceEnded closes the router and everything in it", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        const { speaker, listener } = yield* hostHeardByAlice(plane, authority, 8888)
        const events = yield* Stream.runCollect(plane.events(space)).pipe(Effect.fork)
        const speaking = yield* Stream.runDrain(plane.speaking(space)).pipe(Effect.fork)
        yield* Effect.promise(() => sleep(20))
        yield* sendRange(speaker.send, 0, 10)
        yield* arrived([listener], 10)

        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))
        // Both streams end with the room.
        const tags = Chunk.toReadonlyArray(yield* Fiber.join(events)).map((event) => event._tag)
        expect(tags.at(-1)).toBe("RoomClosed")
        yield* Fiber.join(speaking)
        for (const failure of [
          yield* plane.producers(space).pipe(Effect.flip),
          yield* plane.createPlainTransport({ spaceId: space, userId: host }, "send").pipe(Effect.flip),
          yield* plane
            .resumeConsumer({ spaceId: space, userId: alice }, listener.consumerIds[0]!)
            .pipe(Effect.flip)
        ]) {
          expect(failure._tag).toBe("MediaRoomNotOpen")
        }
        // Idempotent: ending again or muting in an ended room changes nothing.
        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        yield* sendRange(speaker.send, 10, 20)
        // Absence can only be checked over a window; the packets had a route and have none now.
        yield* Effect.promise(() => sleep(300))
        expect(indexes(listener)).toEqual(range(0, 10))
      })
    ))

  it("turns audio levels into speaking signals for the Space", () =>
    withPlane({ speakingIntervalMs: 100 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        const speaker = yield* plainSpeaker(plane, space, host, 9999)
        const signals = yield* plane.speaking(space).pipe(
          Stream.filter((signal) => signal._tag === "AudioLevels" && signal.levels.length > 0),
          Stream.take(1),
          Stream.runCollect,
          Effect.fork
        )
        const sending = yield* Effect.fork(
          Effect.promise(async () => {
            for (let index = 0; index < 500; index++) {
              await speaker.send(index)
              await sleep(20)
            }
          })
        )
        const [levels] = Chunk.toReadonlyArray(yield* Fiber.join(signals).pipe(Effect.timeout("10 seconds")))
        yield* Fiber.interrupt(sending)
        expect(levels).toMatchObject({ _tag: "AudioLevels", spaceId: space, levels: [{ userId: host }] })
      })
    ))
})
