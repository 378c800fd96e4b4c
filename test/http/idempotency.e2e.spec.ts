import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, type Client, client, startTestServer, type TestServer } from "./harness.js"

const REUSED = "https://spaces.dev/problems/idempotency-key-reused"

interface Result {
  readonly events: ReadonlyArray<{ readonly _tag: string }>
  readonly revision: number
  readonly position: number
}

const expectReused = (answer: Answer, key: string) => {
  expect(answer.status, answer.text).toBe(422)
  expect(answer.headers.get("content-type")).toContain("application/problem+json")
  expect(answer.headers.get("idempotent-replayed")).toBeNull()
  // The key as the client sent it, not the server's caller-scoped form.
  expect(answer.body).toMatchObject({ type: REUSED, status: 422, key })
}

describe("Idempotency-Key over HTTP", () => {
  let t: TestServer
  let hana: Client, bob: Client, lee: Client, olga: Client
  beforeAll(async () => {
    t = await startTestServer()
    ;[hana, bob, lee, olga] = await Promise.all([
      client(t.url, "hana"),
      client(t.url, "bob"),
      client(t.url, "lee"),
      client(t.url, "olga")
    ])
  })
  afterAll(() => t.close())

  const space = {
    title: "Retries",
    topics: ["music"],
    speakPolicy: "everyone",
    recording: false,
    captions: false
  }

  it("keys are scoped unambiguously: user 'a:k' with key 'x' is not user 'a' with key 'k:x'", async () => {
    const colonUser = await client(t.url, "idem-a:k")
    const plainUser = await client(t.url, "idem-a")
    const first = await colonUser.call("POST", "/v1/spaces", space, { "idempotency-key": "x" })
    expect(first.status, first.text).toBe(201)
    const second = await plainUser.call("POST", "/v1/spaces", space, { "idempotency-key": "k:x" })
    expect(second.status, second.text).toBe(201)
    expect(second.headers.get("idempotent-replayed")).toBeNull()
    // Two Spaces: the generated ids differ too.
    expect(second.headers.get("location")).not.toBe(first.headers.get("location"))
  })

  it("same key and body: the first answer again, nothing applied twice; another body: 422, nothing appended", async () => {
    const key = { "idempotency-key": "create-1" }
    // No spaceId: the server derives it from the key, so a retry names the same Space.
    const first = await hana.call("POST", "/v1/spaces", space, key)
    expect(first.status, first.text).toBe(201)
    expect(first.headers.get("idempotent-replayed")).toBeNull()
    const logged = await t.logLength()

    const again = await hana.call("POST", "/v1/spaces", space, key)
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.headers.get("location")).toBe(first.headers.get("location"))
    expect(again.body).toEqual(first.body)
    expect(await t.logLength()).toBe(logged)

    const other = await hana.call("POST", "/v1/spaces", { ...space, title: "Something else" }, key)
    expectReused(other, "create-1")
    expect(await t.logLength()).toBe(logged)
    const state = await hana.call("GET", `${first.headers.get("location")}/state`)
    expect(state.body).toMatchObject({ state: { title: "Retries" } })
  })

  it("a key reused on another route of the same Space is refused; keys are per caller", async () => {
    const created = await bob.call("POST", "/v1/spaces", { ...space, spaceId: "idem-2" })
    expect(created.status, created.text).toBe(201)
    const key = { "idempotency-key": "j-1" }
    const joined = await lee.call("POST", "/v1/spaces/idem-2/join", undefined, key)
    expect(joined.status, joined.text).toBe(200)
    expect((joined.body as Result).events.map((e) => e._tag)).toEqual(["ListenerJoined"])
    const logged = await t.logLength()

    expectReused(await lee.call("POST", "/v1/spaces/idem-2/hand", undefined, key), "j-1")
    expect(await t.logLength()).toBe(logged)
    const state = await lee.call("GET", "/v1/spaces/idem-2/state")
    expect(state.body).toMatchObject({ state: { raisedHands: [] } })

    const replayed = await lee.call("POST", "/v1/spaces/idem-2/join", undefined, key)
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")
    expect(replayed.body).toEqual(joined.body)

    // Another caller's identical key is another key: olga's join is applied, not refused or replayed.
    const hers = await olga.call("POST", "/v1/spaces/idem-2/join", undefined, key)
    expect(hers.status, hers.text).toBe(200)
    expect(hers.headers.get("idempotent-replayed")).toBeNull()
    expect(await t.logLength()).toBeGreaterThan(logged)
  })

  it("the follow graph (a user stream) keeps the same rule", async () => {
    const key = { "idempotency-key": "f-1" }
    const followed = await lee.call("PUT", "/v1/me/following/hana", undefined, key)
    expect(followed.status, followed.text).toBe(200)
    const again = await lee.call("PUT", "/v1/me/following/hana", undefined, key)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    const logged = await t.logLength()
    expectReused(await lee.call("DELETE", "/v1/me/following/hana", undefined, key), "f-1")
    expect(await t.logLength()).toBe(logged)
  })
})
