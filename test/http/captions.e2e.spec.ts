import { existsSync } from "node:fs"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestSpeaker } from "../../packages/media/src/testing/peers.js"
import {
  concatPcm,
  opusFrames,
  sendInRealTime,
  sharedWords,
  silencePcm,
  speechPcm
} from "../../packages/media/src/testing/speech.js"
import { openCaptionedRoom } from "./captionedRoom.js"
import { type Client, eventually, openSse, type TestServer } from "./harness.js"

// A sentence the default engine recognises whole on a quiet machine (`npm run bench -- captions`):
// "…first question" came back as "…first western" even then, too little margin on a loaded CI run.
const SENTENCE = "hello everyone and welcome to the show"
const SSRC = 5150

interface Logged {
  readonly position: number
  readonly event: { readonly _tag: string; readonly at: number } & Record<string, unknown>
  readonly metadata: Record<string, unknown>
}

const metric = async (url: string, name: string) => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.split(" ").at(-1))
}

/** Live captions end to end: the server's own transcriber, its pocketsphinx engine, its log. */
describe.skipIf(!existsSync(mediasoup.workerBin))("captions over HTTP", () => {
  let t: TestServer
  let host: Client
  let listener: Client
  let speaker: TestSpeaker
  let nextIndex = 0
  const spaceId = "cap-1"

  const events = async () => (await host.call("GET", `/v1/spaces/${spaceId}/events`)).body as Array<Logged>
  const captions = async () => (await events()).filter((e) => e.event._tag === "CaptionAppended")
  /** Speaks in real time; when its first packet was sent. */
  const say = async (pcm: Int16Array) => {
    const frames = opusFrames(pcm)
    let first = 0
    nextIndex = await sendInRealTime(frames, speaker.sendPacket, {
      ssrc: SSRC,
      firstIndex: nextIndex,
      onFrame: (i, at) => {
        if (i === 0) first = at
      }
    })
    return first
  }

  beforeAll(async () => {
    ;({ t, host, listener, speaker } = await openCaptionedRoom({
      env: { SPACES_MEDIA_MIN_PORT: "45000", SPACES_MEDIA_MAX_PORT: "45999", SPACES_CAPTIONS_DECODERS: "1" },
      spaceId,
      title: "Captioned",
      host: "cap-host",
      listener: "cap-listener",
      ssrc: SSRC
    }))
  }, 60_000)
  afterAll(async () => {
    await speaker?.endpoint.close()
    await t?.close()
  })

  it("appends what the speaker says as CaptionAppended by the transcription service, partials first on the live stream", async () => {
    const view = await listener.call("GET", `/v1/spaces/${spaceId}`)
    const position = (view.body as { position: number }).position
    const live = await openSse(`${t.url}/v1/spaces/${spaceId}/live?after=${position}`, {
      authorization: `Bearer ${listener.token}`
    })
    try {
      // Wait until the transcriber taps the speaker's producer (it follows the room's events).
      expect(
        await eventually(
          () => metric(t.url, "spaces_captions_speakers"),
          (n) => n === 1,
          20_000
        )
      ).toBe(1)
      const spokenAt = await say(concatPcm(speechPcm(SENTENCE), silencePcm(1500)))
      const final = await live.next(
        (e) => e.event === "space" && (e.data as { type: string }).type === "CaptionAppended",
        60_000
      )
      const log = await events()
      const started = log.find((e) => e.event._tag === "SpaceStarted")!.event.at
      const appended = (await captions())[0]!
      const segment = appended.event.segment as {
        speaker: string
        text: string
        startMs: number
        endMs: number
      }
      expect(appended.event.service).toBe("transcriber")
      expect(segment.speaker).toBe("cap-host")
      expect(sharedWords(SENTENCE, segment.text), segment.text).toBeGreaterThanOrEqual(0.5)
      // On the Space's timeline: ms since it went live, around when the words were sent.
      expect(segment.startMs).toBeGreaterThan(spokenAt - started - 1000)
      expect(segment.startMs).toBeLessThan(spokenAt - started + 1500)
      expect(segment.endMs).toBeGreaterThan(segment.startMs)

      const partialIndex = live.events.findIndex((e) => e.event === "caption")
      expect(partialIndex).toBeGreaterThanOrEqual(0)
      expect(partialIndex).toBeLessThan(live.events.indexOf(final))
      expect(live.events[partialIndex]!.data).toMatchObject({ spaceId, speaker: "cap-host" })
    } finally {
      live.close()
    }
  }, 120_000)

  it("serves the transcript as JSON, and as WebVTT by Accept or .vtt", async () => {
    const json = await listener.call("GET", `/v1/spaces/${spaceId}/transcript`)
    expect(json.status).toBe(200)
    const transcript = json.body as { startedAt: number; segments: Array<{ speaker: string; text: string }> }
    expect(transcript.segments.length).toBeGreaterThanOrEqual(1)
    expect(transcript.segments[0]).toMatchObject({ speaker: "cap-host" })
    const vtt = await listener.call("GET", `/v1/spaces/${spaceId}/transcript`, undefined, {
      accept: "text/vtt"
    })
    expect(vtt.status).toBe(200)
    expect(vtt.headers.get("content-type")).toContain("text/vtt")
    expect(vtt.text).toMatch(
      /^WEBVTT\n\n1\n\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\n<v cap-host>/
    )
    expect(vtt.text).toContain(transcript.segments[0]!.text)
    const file = await listener.call("GET", `/v1/spaces/${spaceId}/transcript.vtt`)
    expect(file.text).toBe(vtt.text)
    const missing = await listener.call("GET", "/v1/spaces/no-such-space/transcript")
    expect(missing.status).toBe(404)
    expect(missing.headers.get("content-type")).toContain("application/problem+json")
  })

  it("with captions turned off, appends nothing and decodes nothing", async () => {
    expect((await host.call("PUT", `/v1/spaces/${spaceId}/captions`, { captions: false })).status).toBe(200)
    expect(
      await eventually(
        () => metric(t.url, "spaces_captions_speakers"),
        (n) => n === 0,
        20_000
      )
    ).toBe(0)
    const before = await captions()
    const decoded = await metric(t.url, "spaces_captions_decoded_packets_total")
    await say(concatPcm(speechPcm(SENTENCE), silencePcm(1500)))
    expect(await metric(t.url, "spaces_captions_decoded_packets_total")).toBe(decoded)
    expect(await captions()).toHaveLength(before.length)
  }, 120_000)
})
