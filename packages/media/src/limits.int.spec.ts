import { Effect, Exit } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "./instructions.js"
import { openRoom, requireWorker, withPlane } from "./testing/harness.js"
import { plainListener, plainSpeaker, spaceId, userId } from "./testing/peers.js"
import { opusRtpParameters } from "./testing/rtp.js"
import { udpEndpoint } from "./testing/udp.js"

const space = spaceId("limits")
const host = userId("host")
const alice = userId("alice")

beforeAll(requireWorker)

/** The error an effect failed with (the test fails if it succeeded). */
const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.flip(effect)

describe("media caps per user, and refusals that are the client's mistake", () => {
  it("caps transports per user per Space and names the limit", () =>
    withPlane({ maxTransportsPerUser: 2 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { listeners: [alice] })
        const caller = { spaceId: space, userId: alice }
        const first = yield* plane.createPlainTransport(caller, "recv")
        yield* plane.createPlainTransport(caller, "recv")
        const refused = yield* failure(plane.createPlainTransport(caller, "recv"))
        expect(refused).toMatchObject({ _tag: "MediaLimitReached", limit: "transportsPerUser", max: 2 })
        expect((yield* plane.stats(space)).routers[0]?.recvTransports).toBe(2)
        // Another user of the same Space is not affected; closing one frees a place.
        authority.listener(space, host)
        yield* plane.createPlainTransport({ spaceId: space, userId: host }, "recv")
        yield* plane.closeTransport(caller, first.transportId)
        yield* plane.createPlainTransport(caller, "recv")
      })
    ))

  it("caps producers per transport", () =>
    withPlane({ maxProducersPerTransport: 2 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        const speaker = yield* plainSpeaker(plane, space, host, 5000)
        const caller = { spaceId: space, userId: host }
        yield* plane.produce(caller, speaker.transportId, opusRtpParameters(5001))
        const refused = yield* failure(plane.produce(caller, speaker.transportId, opusRtpParameters(5002)))
        expect(refused).toMatchObject({ _tag: "MediaLimitReached", limit: "producersPerTransport", max: 2 })
        expect((yield* plane.producers(space)).length).toBe(1)
      })
    ))

  it("caps consumers per user per Space", () =>
    withPlane({ maxConsumersPerUser: 2 }, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host], listeners: [alice] })
        const speaker = yield* plainSpeaker(plane, space, host, 6000)
        const listener = yield* plainListener(plane, space, alice)
        const caller = { spaceId: space, userId: alice }
        const caps = yield* plane.rtpCapabilities(caller)
        yield* plane.consume(caller, listener.transportId, speaker.producerId, caps)
        yield* plane.consume(caller, listener.transportId, speaker.producerId, caps)
        const refused = yield* failure(plane.consume(caller, listener.transportId, speaker.producerId, caps))
        expect(refused).toMatchObject({ _tag: "MediaLimitReached", limit: "consumersPerUser", max: 2 })
      })
    ))

  it("a second connect and a duplicate SSRC are the client's mistake, not MediaUnavailable", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        const speaker = yield* plainSpeaker(plane, space, host, 7000)
        const caller = { spaceId: space, userId: host }
        const elsewhere = yield* Effect.promise(() => udpEndpoint())
        const again = yield* failure(
          plane.connectTransport(caller, speaker.transportId, { ip: elsewhere.ip, port: elsewhere.port })
        )
        expect(again._tag).toBe("MediaRequestRejected")
        const duplicate = yield* failure(plane.produce(caller, speaker.transportId, opusRtpParameters(7000)))
        expect(duplicate._tag).toBe("MediaRequestRejected")
        // The speaker's track is untouched by the refused request.
        expect((yield* plane.producers(space)).map((p) => p.producerId)).toEqual([speaker.producerId])
      })
    ))

  it("a transport created while its user is removed does not survive the removal", () =>
    withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { listeners: [alice] })
        // The removal lands right after the plane's permission check, while the worker creates.
        let removal: Promise<unknown> | undefined
        authority.afterAnswer = (_space, user) => {
          if (user !== alice || removal !== undefined) return
          authority.remove(space, alice)
          removal = Effect.runPromise(
            plane.apply(MediaInstruction.ParticipantRemoved({ spaceId: space, userId: alice }))
          )
        }
        const created = yield* Effect.exit(
          plane.createPlainTransport({ spaceId: space, userId: alice }, "recv")
        )
        yield* Effect.promise(() => removal ?? Promise.resolve())
        expect(removal).toBeDefined()
        expect(Exit.isFailure(created) ? "refused" : "created").toBe("refused")
        expect((yield* plane.stats(space)).routers[0]?.recvTransports).toBe(0)
      })
    ))
})
