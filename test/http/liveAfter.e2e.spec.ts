import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Client, client, openSse, type SseEvent, startTestServer, type TestServer } from "./harness.js"

const ok = (answer: { status: number; body: unknown }, status = 200) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  return answer.body as { readonly position: number }
}
const typeOf = (e: SseEvent) => (e.data as { type: string }).type
const positionOf = (e: SseEvent) => (e.data as { position: number }).position

describe("the room stream from the room view's position", () => {
  let t: TestServer
  let hana: Client, lee: Client, sam: Client
  beforeAll(async () => {
    t = await startTestServer()
    ;[hana, lee, sam] = await Promise.all([client(t.url, "hana"), client(t.url, "lee"), client(t.url, "sam")])
    const space = { spaceId: "sp-a", title: "Busy", topics: ["music"], speakPolicy: "everyone" }
    ok(await hana.call("POST", "/v1/spaces", { ...space, recording: false, captions: false }), 201)
  })
  afterAll(() => t.close())

  it("sends only what came after the view, including a command made right after reading it", async () => {
    const joined = ok(await lee.call("POST", "/v1/spaces/sp-a/join"))

    const view = await lee.call("GET", `/v1/spaces/sp-a?minPosition=${joined.position}`)
    expect(view.status).toBe(200)
    const at = (view.body as { position: number }).position
    expect(at).toBeGreaterThanOrEqual(joined.position)

    // Between reading the view and opening the stream: must still arrive.
    const between = ok(await sam.call("POST", "/v1/spaces/sp-a/join"))
    const room = await openSse(`${t.url}/v1/spaces/sp-a/live?after=${at}`, {
      authorization: `Bearer ${lee.token}`
    })
    expect(room.status).toBe(200)
    await room.next((e) => e.event === "space" && positionOf(e) === between.position)
    const later = ok(await sam.call("POST", "/v1/spaces/sp-a/hand"))
    await room.next((e) => e.event === "space" && positionOf(e) === later.position)

    const log = room.events.filter((e) => e.event === "space")
    expect(log.every((e) => positionOf(e) > at && e.id === String(positionOf(e)))).toBe(true)
    expect(log.map(typeOf)).not.toContain("SpaceCreated")
    room.close()
  })

  it("lets Last-Event-ID win over ?after= and refuses a malformed position", async () => {
    const both = await openSse(`${t.url}/v1/spaces/sp-a/live?after=1000000`, {
      authorization: `Bearer ${lee.token}`,
      "last-event-id": "0"
    })
    // From the header's 0: the whole past, from the Space's creation.
    await both.next((e) => e.event === "space" && typeOf(e) === "SpaceCreated")
    both.close()

    const bad = await lee.call("GET", "/v1/spaces/sp-a/live?after=-1")
    expect(bad.status).toBe(400)
  })
})
