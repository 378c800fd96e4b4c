import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeUrlSigner } from "../../packages/http/src/routes/recordings.js"
import { plainSpeaker } from "../../packages/media/src/testing/peers.js"
import { sleep, waitUntil } from "../../packages/media/src/testing/udp.js"
import { type Client, client, request, startTestServer, type TestServer } from "./harness.js"

interface TrackView {
  readonly file: string
  readonly userId: string
  readonly startOffsetMs: number | null
  readonly endOffsetMs: number | null
  readonly samples: number
  readonly durationMs: number
  readonly url: string
}
interface RecordingView {
  readonly spaceId: string
  readonly startedAt: number
  readonly urlsExpireAt: number
  readonly tracks: ReadonlyArray<TrackView>
}

const PACKETS = 50
/** Every node of a deployment shares this key, so each accepts the URLs the others signed. */
const URL_SECRET = "recording-url-secret-recording-url-secret"

const newSpace = (host: Client, spaceId: string, recording: boolean) =>
  host.call("POST", "/v1/spaces", {
    spaceId,
    title: recording ? "Recorded" : "Not recorded",
    topics: [],
    speakPolicy: "everyone",
    recording,
    captions: false
  })

/** Recording playback: a Space recorded through the real SFU, its manifest and tracks served over HTTP. */
describe.skipIf(!existsSync(mediasoup.workerBin))("recordings over HTTP", () => {
  let t: TestServer
  let recordings: string
  let host: Client
  let recording: RecordingView
  const spaceId = "rec-1"

  beforeAll(async () => {
    recordings = mkdtempSync(join(tmpdir(), "spaces-recordings-"))
    t = await startTestServer({
      SPACES_MEDIA: "on",
      SPACES_MEDIA_WORKERS: "1",
      SPACES_MEDIA_MIN_PORT: "46000",
      SPACES_MEDIA_MAX_PORT: "46999",
      SPACES_RECORDINGS_DIR: recordings,
      SPACES_RECORDING_URL_SECRET: URL_SECRET
    })
    if (!t.server.media.available) throw new Error("the test server has no media plane")
    const plane = t.server.media.plane
    host = await client(t.url, "rec-host")
    expect((await newSpace(host, spaceId, true)).status).toBe(201)
    // The host starts muted (SPEC): unmuted, their producer starts flowing at once.
    expect((await host.call("POST", `/v1/spaces/${spaceId}/speakers/rec-host/unmute`)).status).toBe(200)
    const space = SpaceId.make(spaceId)
    const opened = await waitUntil(() => Effect.runSync(Effect.either(plane.stats(space)))._tag === "Right")
    expect(opened).toBe(true)

    // A speaker over plain RTP (the browser's role), through the server's own media plane.
    const speaker = await Effect.runPromise(plainSpeaker(plane, space, UserId.make("rec-host"), 777))
    for (let index = 0; index < PACKETS; index++) {
      await speaker.send(index)
      if (index % 10 === 9) await sleep(2)
    }
    const recorded = await waitUntil(() =>
      Effect.runSync(
        plane.stats(space).pipe(
          Effect.map((s) => (s.recordedSamples ?? 0) >= PACKETS * 960),
          Effect.orElseSucceed(() => false)
        )
      )
    )
    expect(recorded).toBe(true)
    await speaker.endpoint.close()
    // Ending the Space closes the track: the manifest gets its end offset.
    expect((await host.call("POST", `/v1/spaces/${spaceId}/end`)).status).toBe(200)
    await waitUntil(() => Effect.runSync(Effect.either(plane.stats(space)))._tag === "Left")
    const answer = await host.call("GET", `/v1/spaces/${spaceId}/recording`)
    expect(answer.status).toBe(200)
    recording = answer.body as RecordingView
  })
  afterAll(async () => {
    await t?.close()
    rmSync(recordings, { recursive: true, force: true })
  })

  it("serves the manifest: one track per speaker, placed on the Space's timeline", () => {
    expect(recording.spaceId).toBe(spaceId)
    expect(recording.urlsExpireAt).toBeGreaterThan(Date.now())
    expect(recording.tracks).toHaveLength(1)
    const [track] = recording.tracks
    expect(track).toMatchObject({ userId: "rec-host", samples: PACKETS * 960, durationMs: PACKETS * 20 })
    expect(track!.startOffsetMs).toBeGreaterThanOrEqual(0)
    expect(track!.endOffsetMs).toBeGreaterThanOrEqual(track!.startOffsetMs!)
    expect(track!.url).toMatch(
      new RegExp(`^/v1/spaces/${spaceId}/recording/tracks/${track!.file}\\?expires=\\d+&signature=`)
    )
  })

  it("streams a track as audio/ogg and answers a Range request with 206", async () => {
    const { file } = recording.tracks[0]!
    const path = `/v1/spaces/${spaceId}/recording/tracks/${file}`
    const whole = await fetch(t.url + path, { headers: { authorization: `Bearer ${host.token}` } })
    expect(whole.status).toBe(200)
    expect(whole.headers.get("content-type")).toBe("audio/ogg")
    expect(whole.headers.get("accept-ranges")).toBe("bytes")
    const bytes = Buffer.from(await whole.arrayBuffer())
    expect(bytes.toString("latin1", 0, 4)).toBe("OggS")
    expect(bytes.includes("OpusHead")).toBe(true)

    const part = await fetch(t.url + path, {
      headers: { authorization: `Bearer ${host.token}`, range: "bytes=100-199" }
    })
    expect(part.status).toBe(206)
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true)

    const past = await fetch(t.url + path, {
      headers: { authorization: `Bearer ${host.token}`, range: `bytes=${bytes.length + 10}-` }
    })
    expect(past.status).toBe(416)
    expect(past.headers.get("content-type")).toContain("application/problem+json")
    expect(past.headers.get("content-range")).toBe(`bytes */${bytes.length}`)
  })

  it("lets an <audio> element in by the manifest's signed URL, not by a forged one", async () => {
    const { url } = recording.tracks[0]!
    const signed = await fetch(t.url + url, { headers: { range: "bytes=0-3" } })
    expect(signed.status).toBe(206)
    expect(Buffer.from(await signed.arrayBuffer()).toString("latin1")).toBe("OggS")

    const forged = await request(t.url, "GET", url.replace(/signature=.*/, "signature=AAAA"))
    expect(forged.status).toBe(403)
    expect(forged.body).toMatchObject({ type: "https://spaces.dev/problems/recording-url-invalid" })
    const anonymous = await request(t.url, "GET", url.split("?")[0]!)
    expect(anonymous.status).toBe(401)
  })

  it("refuses a signed URL past its expiry, or its signature on another file or Space", async () => {
    const { file } = recording.tracks[0]!
    const signer = makeUrlSigner(new TextEncoder().encode(URL_SECRET))
    const at = (space: string, name: string, expires: number, signature: string) =>
      `/v1/spaces/${space}/recording/tracks/${name}?expires=${expires}&signature=${signature}`
    const refused = async (path: string) => {
      const answer = await request(t.url, "GET", path)
      expect(answer.status, path).toBe(403)
      expect(answer.body).toMatchObject({ type: "https://spaces.dev/problems/recording-url-invalid" })
    }
    // The test signs as the server does: a URL of its own making is accepted while it is valid...
    const later = Math.floor(Date.now() / 1000) + 600
    const valid = await fetch(t.url + at(spaceId, file, later, signer.sign(spaceId, file, later)), {
      headers: { range: "bytes=0-3" }
    })
    expect(valid.status).toBe(206)
    // ...and refused, correctly signed, once expired.
    const earlier = Math.floor(Date.now() / 1000) - 1
    await refused(at(spaceId, file, earlier, signer.sign(spaceId, file, earlier)))
    // A valid signature only opens the file and Space it was made for.
    const signature = signer.sign(spaceId, file, later)
    // (Checked before the manifest: a 404 here would mean the signature had passed.)
    await refused(at(spaceId, "999-someone.opus", later, signature))
    await refused(at("rec-other", file, later, signature))
    // Nor does it pass with the expiry moved on.
    await refused(at(spaceId, file, later + 3600, signature))
  })

  it("accepts the manifest's URLs on another node that shares the recording URL key", async () => {
    const { url } = recording.tracks[0]!
    // Another server process on the same recordings, with a token secret of its own.
    const other = await startTestServer({
      SPACES_RECORDINGS_DIR: recordings,
      SPACES_RECORDING_URL_SECRET: URL_SECRET,
      SPACES_JWT_SECRET: "another-token-secret-another-token-secret"
    })
    const stranger = await startTestServer({
      SPACES_RECORDINGS_DIR: recordings,
      SPACES_RECORDING_URL_SECRET: "a-different-recording-url-secret-0123456789"
    })
    try {
      const signed = await fetch(other.url + url, { headers: { range: "bytes=0-3" } })
      expect(signed.status).toBe(206)
      expect(Buffer.from(await signed.arrayBuffer()).toString("latin1")).toBe("OggS")
      expect((await request(stranger.url, "GET", url)).status).toBe(403)
    } finally {
      await Promise.all([other.close(), stranger.close()])
    }
  })

  it("serves only the files the manifest lists", async () => {
    const other = await host.call("GET", `/v1/spaces/${spaceId}/recording/tracks/999-someone.opus`)
    expect(other.status).toBe(404)
    expect(other.body).toMatchObject({ type: "https://spaces.dev/problems/recording-track-not-found" })
    const manifest = await host.call("GET", `/v1/spaces/${spaceId}/recording/tracks/manifest.json`)
    expect(manifest.status).toBe(400)
    const traversal = await host.call("GET", `/v1/spaces/${spaceId}/recording/tracks/..%2Fmanifest.json`)
    expect([400, 404]).toContain(traversal.status)
  })

  it("answers 404 problem for a Space that was not recorded", async () => {
    expect((await newSpace(host, "rec-none", false)).status).toBe(201)
    const none = await host.call("GET", "/v1/spaces/rec-none/recording")
    expect(none.status).toBe(404)
    expect(none.headers.get("content-type")).toContain("application/problem+json")
    expect(none.body).toMatchObject({
      type: "https://spaces.dev/problems/recording-not-found",
      status: 404,
      spaceId: "rec-none"
    })
    expect((await host.call("GET", "/v1/spaces/rec-none/recording/tracks/001-rec-host.opus")).status).toBe(
      404
    )
  })
})
