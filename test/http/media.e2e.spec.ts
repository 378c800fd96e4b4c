import { existsSync } from "node:fs"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client, startTestServer, type TestServer } from "./harness.js"

/** Media signalling is authorised against the domain: a listener may receive, never publish. */
describe.skipIf(!existsSync(mediasoup.workerBin))("media signalling over HTTP", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({
      SPACES_MEDIA: "on",
      SPACES_MEDIA_WORKERS: "1",
      SPACES_MEDIA_MIN_PORT: "47000",
      SPACES_MEDIA_MAX_PORT: "47999"
    })
  })
  afterAll(() => t.close())

  it("refuses a listener's attempt to produce with 403, lets a speaker open a send transport", async () => {
    expect(t.server.media.available).toBe(true)
    const host = await client(t.url, "m-host")
    const listener = await client(t.url, "m-listener")
    const created = await host.call("POST", "/v1/spaces", {
      spaceId: "media-1",
      title: "Media",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    })
    expect(created.status).toBe(201)
    expect((await listener.call("POST", "/v1/spaces/media-1/join")).status).toBe(200)

    // The glue opens the room from the log: wait (bounded) until the router answers.
    let caps = await listener.call("GET", "/v1/spaces/media-1/media/capabilities")
    for (let i = 0; i < 100 && caps.status === 409; i++) {
      await new Promise((r) => setTimeout(r, 20))
      caps = await listener.call("GET", "/v1/spaces/media-1/media/capabilities")
    }
    expect(caps.status).toBe(200)

    const send = await listener.call("POST", "/v1/spaces/media-1/media/transports", { direction: "send" })
    expect(send.status).toBe(403)
    expect(send.headers.get("content-type")).toContain("application/problem+json")
    expect(send.body).toMatchObject({ type: "https://spaces.dev/problems/media-not-a-speaker" })

    const recv = await listener.call("POST", "/v1/spaces/media-1/media/transports", { direction: "recv" })
    expect(recv.status).toBe(201)
    const transportId = (recv.body as { transportId: string }).transportId
    const produce = await listener.call("POST", "/v1/spaces/media-1/media/produce", {
      transportId,
      rtpParameters: { codecs: [{ mimeType: "audio/opus", payloadType: 100, clockRate: 48000, channels: 2 }] }
    })
    // Refused either way; the media plane checks the transport's direction before asking the domain.
    expect([403, 409]).toContain(produce.status)

    const hostSend = await host.call("POST", "/v1/spaces/media-1/media/transports", { direction: "send" })
    expect(hostSend.status).toBe(201)

    // Ending the Space closes the room: signalling answers 409 afterwards.
    expect((await host.call("POST", "/v1/spaces/media-1/end")).status).toBe(200)
    let after = await host.call("GET", "/v1/spaces/media-1/media/capabilities")
    for (let i = 0; i < 100 && after.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20))
      after = await host.call("GET", "/v1/spaces/media-1/media/capabilities")
    }
    expect([403, 409]).toContain(after.status)
  })

  it("answers 503 on signalling when the server runs without media", async () => {
    const plain = await startTestServer()
    try {
      const host = await client(plain.url, "n-host")
      const caps = await host.call("GET", "/v1/spaces/x/media/capabilities")
      expect(caps.status).toBe(503)
      expect(caps.body).toMatchObject({ type: "https://spaces.dev/problems/media-unavailable" })
    } finally {
      await plain.close()
    }
  })
})
