import { existsSync } from "node:fs"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Client, client, startTestServer, type TestServer } from "./harness.js"

const dtlsParameters = {
  role: "client",
  fingerprints: [{ algorithm: "sha-256", value: Array.from({ length: 32 }, () => "AB").join(":") }]
}

/** Media signalling refuses outsiders, caps what one user may hold, and answers a client's mistake with a 4xx. */
describe.skipIf(!existsSync(mediasoup.workerBin))("media signalling limits over HTTP", () => {
  let t: TestServer
  let host: Client
  let listener: Client
  beforeAll(async () => {
    t = await startTestServer({
      SPACES_MEDIA: "on",
      SPACES_MEDIA_WORKERS: "1",
      SPACES_MEDIA_MIN_PORT: "46000",
      SPACES_MEDIA_MAX_PORT: "46999",
      SPACES_MEDIA_MAX_TRANSPORTS_PER_USER: "2"
    })
    host = await client(t.url, "ml-host")
    listener = await client(t.url, "ml-listener")
    const otherHost = await client(t.url, "ml-host-b")
    for (const [spaceId, by] of [
      ["ml-a", host],
      ["ml-b", otherHost]
    ] as const) {
      const created = await by.call("POST", "/v1/spaces", {
        spaceId,
        title: "Limits",
        topics: [],
        speakPolicy: "everyone",
        recording: false,
        captions: false
      })
      expect(created.status).toBe(201)
    }
    expect((await listener.call("POST", "/v1/spaces/ml-a/join")).status).toBe(200)
    // The glue opens the rooms from the log: wait (bounded) until both routers answer.
    for (const [spaceId, by] of [
      ["ml-a", host],
      ["ml-b", otherHost]
    ] as const) {
      let caps = await by.call("GET", `/v1/spaces/${spaceId}/media/capabilities`)
      for (let i = 0; i < 250 && caps.status === 409; i++) {
        await new Promise((r) => setTimeout(r, 20))
        caps = await by.call("GET", `/v1/spaces/${spaceId}/media/capabilities`)
      }
      expect(caps.status).toBe(200)
    }
  })
  afterAll(() => t.close())

  it("GET …/media/producers is for participants only, like capabilities", async () => {
    const outsider = await client(t.url, "ml-outsider")
    for (const who of [outsider, listener]) {
      // The listener is a participant of ml-a only.
      const answer = await who.call("GET", "/v1/spaces/ml-b/media/producers")
      expect(answer.status).toBe(403)
      expect(answer.body).toMatchObject({ type: "https://spaces.dev/problems/media-not-a-participant" })
      const caps = await who.call("GET", "/v1/spaces/ml-b/media/capabilities")
      expect(caps.status).toBe(403)
    }
    expect((await listener.call("GET", "/v1/spaces/ml-a/media/producers")).status).toBe(200)
  })

  it("a third transport of one user in one Space is refused with 422 naming the limit", async () => {
    const statuses: Array<number> = []
    let last: unknown
    for (let i = 0; i < 5; i++) {
      const answer = await listener.call("POST", "/v1/spaces/ml-a/media/transports", { direction: "recv" })
      statuses.push(answer.status)
      last = answer.body
    }
    expect(statuses).toEqual([201, 201, 422, 422, 422])
    expect(last).toMatchObject({
      type: "https://spaces.dev/problems/media-limit-reached",
      status: 422,
      limit: "transportsPerUser",
      max: 2
    })
  })

  it("connecting a transport twice is the client's mistake: 409, no Retry-After", async () => {
    const send = await host.call("POST", "/v1/spaces/ml-a/media/transports", { direction: "send" })
    expect(send.status).toBe(201)
    const transportId = (send.body as { transportId: string }).transportId
    const path = `/v1/spaces/ml-a/media/transports/${transportId}/connect`
    expect((await host.call("POST", path, { dtlsParameters })).status).toBe(204)
    const again = await host.call("POST", path, { dtlsParameters })
    expect(again.status).toBe(409)
    expect(again.headers.get("retry-after")).toBeNull()
    expect(again.body).toMatchObject({ type: "https://spaces.dev/problems/media-request-rejected" })
  })
})
