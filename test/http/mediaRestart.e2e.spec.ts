import { existsSync } from "node:fs"
import { SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { plainSpeaker } from "../../packages/media/src/testing/peers.js"
import { client, eventually, openSse, type SseEvent, startTestServer, type TestServer } from "./harness.js"

const isMedia = (e: SseEvent) => e.event === "media"

/** A mediasoup worker that dies is replaced, and the clients of its rooms are told to reconnect. */
describe.skipIf(!existsSync(mediasoup.workerBin))("a dead media worker over HTTP", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({
      SPACES_MEDIA: "on",
      SPACES_MEDIA_WORKERS: "1",
      SPACES_MEDIA_MIN_PORT: "45000",
      SPACES_MEDIA_MAX_PORT: "45999"
    })
  })
  afterAll(() => t.close())

  it("sends MediaRestarted on the room's live stream, then signalling works on the replacement", async () => {
    if (!t.server.media.available) throw new Error("the test server has no media plane")
    const plane = t.server.media.plane
    const host = await client(t.url, "w-host")
    const listener = await client(t.url, "w-listener")
    const created = await host.call("POST", "/v1/spaces", {
      spaceId: "w-1",
      title: "Worker dies",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    })
    expect(created.status).toBe(201)
    expect((await listener.call("POST", "/v1/spaces/w-1/join")).status).toBe(200)
    const capabilities = () => listener.call("GET", "/v1/spaces/w-1/media/capabilities")
    expect((await eventually(capabilities, (a) => a.status === 200)).status).toBe(200)
    const room = await openSse(`${t.url}/v1/spaces/w-1/live`, { authorization: `Bearer ${listener.token}` })
    // The host publishes (a plain RTP producer, the browser's role): its NewProducer, or the pause
    // or resume of a mute or unmute after it, on the stream shows the stream follows the room.
    const speaker = await Effect.runPromise(
      plainSpeaker(plane, SpaceId.make("w-1"), UserId.make("w-host"), 4321)
    )
    try {
      for (let i = 0; i < 50 && !room.events.some(isMedia); i++) {
        const toggle = i % 2 === 0 ? "unmute" : "mute"
        expect((await host.call("POST", `/v1/spaces/w-1/speakers/w-host/${toggle}`)).status).toBe(200)
        await room.next(isMedia, 200).catch(() => undefined)
      }
      expect(room.events.some(isMedia)).toBe(true)
      const [worker] = await Effect.runPromise(plane.workers)
      process.kill(worker!.pid, "SIGKILL")

      const restarted = await room.next(
        (e) => e.event === "media" && (e.data as { _tag?: string })._tag === "MediaRestarted",
        10_000
      )
      expect(restarted.data).toEqual({ _tag: "MediaRestarted", spaceId: "w-1" })

      // The client's reaction: set up its media again on the reopened room.
      expect((await eventually(capabilities, (a) => a.status === 200, 10_000)).status).toBe(200)
      const send = await host.call("POST", "/v1/spaces/w-1/media/transports", { direction: "send" })
      expect(send.status).toBe(201)
      const workers = await Effect.runPromise(plane.workers)
      expect(workers).toHaveLength(1)
      expect(workers[0]!.pid).not.toBe(worker!.pid)
    } finally {
      room.close()
      await speaker.endpoint.close()
    }
  })
})
