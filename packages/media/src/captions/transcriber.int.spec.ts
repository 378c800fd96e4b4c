import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import type { MediaPlaneService } from "../mediaPlane.js"
import { loggedEvents, openRoom, requireWorker, withPlane } from "../testing/harness.js"
import { plainSpeaker, spaceId, userId } from "../testing/peers.js"
import {
  concatPcm,
  opusFrames,
  sendInRealTime,
  sharedWords,
  silencePcm,
  speechPcm
} from "../testing/speech.js"
import { waitUntil } from "../testing/udp.js"
import { defaultPocketsphinxOptions, makePocketsphinx } from "./pocketsphinx.js"
import { Recogniser } from "./Recogniser.js"
import {
  AudioSource,
  CaptionSink,
  type FinalCaption,
  makeTranscriber,
  type PartialCaption
} from "./transcriber.js"

beforeAll(requireWorker)

/** Sentences the default engine hears well in the test voice (see speech.ts). */
const FIRST = "hello everyone and welcome to the show"
const SECOND = "we will meet at the station"

interface Heard {
  readonly partials: Array<PartialCaption & { readonly at: number }>
  readonly finals: Array<FinalCaption & { readonly at: number }>
}

const transcriberOn = (plane: MediaPlaneService) =>
  Effect.gen(function* () {
    const heard: Heard = { partials: [], finals: [] }
    const recogniser = yield* makePocketsphinx({ ...defaultPocketsphinxOptions(), decoders: 1 })
    const transcriber = yield* makeTranscriber().pipe(
      Effect.provideService(AudioSource, plane),
      Effect.provideService(Recogniser, recogniser),
      Effect.provideService(CaptionSink, {
        partial: (caption) => Effect.sync(() => heard.partials.push({ ...caption, at: Date.now() })),
        final: (caption) => Effect.sync(() => heard.finals.push({ ...caption, at: Date.now() }))
      })
    )
    return { heard, transcriber }
  })

describe("captions from a speaker's audio (real worker, pocketsphinx)", () => {
  it("turns two spoken phrases into final captions on the Space's timeline, partials first", () => {
    const [space, host] = [spaceId("captioned"), userId("hana")]
    return withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        const startedAt = Date.now() - 5_000 // the Space went live 5 s ago
        const { heard, transcriber } = yield* transcriberOn(plane)
        yield* transcriber.setCaptions(space, true, startedAt)
        const speaker = yield* plainSpeaker(plane, space, host, 4242)
        yield* Effect.promise(() =>
          waitUntil(() => Effect.runSync(transcriber.stats).tappedSpeakers === 1, 20_000)
        )

        const audio = concatPcm(
          silencePcm(400),
          speechPcm(FIRST),
          silencePcm(1500),
          speechPcm(SECOND),
          silencePcm(1500)
        )
        const frames = opusFrames(audio)
        const sentAt: Array<number> = []
        yield* Effect.promise(() =>
          sendInRealTime(frames, speaker.sendPacket, { ssrc: 4242, onFrame: (i, at) => (sentAt[i] = at) })
        )
        const twoFinals = yield* Effect.promise(() => waitUntil(() => heard.finals.length >= 2, 60_000))
        expect(twoFinals, JSON.stringify(heard)).toBe(true)

        const [first, second] = heard.finals
        expect(first!.speaker).toBe(host)
        expect(second!.speaker).toBe(host)
        expect(sharedWords(FIRST, first!.text), first!.text).toBeGreaterThanOrEqual(0.5)
        expect(sharedWords(SECOND, second!.text), second!.text).toBeGreaterThanOrEqual(0.5)

        // Times on the Space's timeline: the first phrase starts about when its first word was sent.
        const firstSpoken = sentAt[20]! - startedAt // after the 400 ms of silence
        const firstLength = (speechPcm(FIRST).length / 16_000) * 1000
        expect(first!.startMs).toBeGreaterThan(firstSpoken - 1000)
        expect(first!.startMs).toBeLessThan(firstSpoken + 1000)
        expect(first!.endMs - first!.startMs).toBeGreaterThan(firstLength - 1000)
        expect(first!.endMs - first!.startMs).toBeLessThan(firstLength + 1500)
        expect(second!.startMs).toBeGreaterThan(first!.endMs)

        // Partials of the first phrase arrived before its final.
        const early = heard.partials.filter((p) => p.startMs === first!.startMs && p.at <= first!.at)
        expect(early.length).toBeGreaterThan(0)
        yield* Effect.promise(() => speaker.endpoint.close())
      })
    )
  }, 120_000)

  it("skips a phrase, visibly, when every decoder is busy (two speakers at once, one decoder)", () => {
    const space = spaceId("crowded")
    const [first, second] = [userId("ada"), userId("bo")]
    return withPlane({}, (plane, authority, logs) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [first, second] })
        const { heard, transcriber } = yield* transcriberOn(plane)
        yield* transcriber.setCaptions(space, true, Date.now())
        const speakers = [
          yield* plainSpeaker(plane, space, first, 11),
          yield* plainSpeaker(plane, space, second, 22)
        ]
        yield* Effect.promise(() =>
          waitUntil(() => Effect.runSync(transcriber.stats).tappedSpeakers === 2, 20_000)
        )
        const frames = opusFrames(concatPcm(speechPcm(FIRST), silencePcm(1500)))
        yield* Effect.promise(() =>
          Promise.all(
            speakers.map((s, i) => sendInRealTime(frames, s.sendPacket, { ssrc: i === 0 ? 11 : 22 }))
          )
        )
        yield* Effect.promise(() => waitUntil(() => heard.finals.length >= 1, 60_000))
        const stats = yield* transcriber.stats
        expect(stats.skippedBusy).toBeGreaterThanOrEqual(1)
        expect(stats.finals).toBeGreaterThanOrEqual(1)
        expect(loggedEvents(logs)).toContain("captions.skipped")
        for (const s of speakers) yield* Effect.promise(() => s.endpoint.close())
      })
    )
  }, 120_000)

  it("decodes nothing and captions nothing while captions are off, and stops at once when turned off", () => {
    const [space, host] = [spaceId("uncaptioned"), userId("lee")]
    return withPlane({}, (plane, authority) =>
      Effect.gen(function* () {
        yield* openRoom(plane, authority, space, { speakers: [host] })
        const { heard, transcriber } = yield* transcriberOn(plane)
        const speaker = yield* plainSpeaker(plane, space, host, 777)
        const frames = opusFrames(concatPcm(speechPcm(FIRST), silencePcm(1500)))
        const next = yield* Effect.promise(() => sendInRealTime(frames, speaker.sendPacket, { ssrc: 777 }))
        const off = yield* transcriber.stats
        expect(off.decodedPackets).toBe(0)
        expect(off.tappedSpeakers).toBe(0)

        // On, then off in the middle of a phrase: nothing more is decoded and no caption comes.
        yield* transcriber.setCaptions(space, true, Date.now())
        yield* Effect.promise(() =>
          waitUntil(() => Effect.runSync(transcriber.stats).tappedSpeakers === 1, 20_000)
        )
        const half = frames.slice(0, Math.floor(frames.length / 3))
        const after = yield* Effect.promise(() =>
          sendInRealTime(half, speaker.sendPacket, { ssrc: 777, firstIndex: next })
        )
        const during = yield* transcriber.stats
        expect(during.decodedPackets).toBeGreaterThan(0)
        yield* transcriber.setCaptions(space, false, 0)
        const stopped = yield* transcriber.stats
        expect(stopped.tappedSpeakers).toBe(0)
        yield* Effect.promise(() =>
          sendInRealTime(frames, speaker.sendPacket, { ssrc: 777, firstIndex: after })
        )
        const later = yield* transcriber.stats
        expect(later.decodedPackets).toBe(stopped.decodedPackets)
        expect(later.phrases).toBe(stopped.phrases)
        expect(heard.finals).toEqual([])
        yield* Effect.promise(() => speaker.endpoint.close())
      })
    )
  }, 120_000)
})
