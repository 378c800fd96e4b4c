import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Client, client, openSse, request, startTestServer, type TestServer } from "./harness.js"

const problem = (slug: string) => `https://spaces.dev/problems/${slug}`
const newSpace = (spaceId: string) => ({
  spaceId,
  title: "Hardening",
  topics: [],
  speakPolicy: "everyone",
  recording: false,
  captions: false
})

describe("failed authentication is rate-limited by client address", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({ SPACES_AUTH_FAILURES_PER_MINUTE: "5", SPACES_TRUST_PROXY: "loopback" })
  })
  afterAll(() => t.close())

  it("bad tokens get 401 up to the budget, then 429 before the token is looked at; other addresses are not affected", async () => {
    // Behind a trusted proxy (loopback here) the address is the one X-Forwarded-For names.
    const from = (address: string) => ({ "x-forwarded-for": address })
    const statuses: Array<number> = []
    for (let i = 0; i < 8; i++)
      statuses.push(
        (await request(t.url, "GET", "/v1/feed", { token: `bad.token.${i}`, headers: from("203.0.113.7") }))
          .status
      )
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
    const limited = await request(t.url, "GET", "/v1/feed", {
      token: "bad.token.x",
      headers: from("203.0.113.7")
    })
    expect(limited.body).toMatchObject({ type: problem("too-many-failed-authentications"), status: 429 })
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0)
    // Another client address still gets its own 401.
    expect(
      (await request(t.url, "GET", "/v1/feed", { token: "bad", headers: from("203.0.113.8") })).status
    ).toBe(401)
    // A valid token from an unaffected address works.
    const ok = await client(t.url, "auth-ok")
    expect((await ok.call("GET", "/v1/feed", undefined, from("198.51.100.1"))).status).toBe(200)
  })
})

describe("event streams are capped per user and per process", () => {
  let t: TestServer
  let host: Client
  beforeAll(async () => {
    t = await startTestServer({ SPACES_SSE_MAX_PER_USER: "2", SPACES_SSE_MAX: "3" })
    host = await client(t.url, "sse-host")
    expect((await host.call("POST", "/v1/spaces", newSpace("sse-1"))).status).toBe(201)
  })
  afterAll(() => t.close())

  it("a user's third stream is 429 too-many-streams; the process's fourth too; closing one frees a place", async () => {
    const url = (token: string) => `${t.url}/v1/spaces/sse-1/live?access_token=${token}`
    const a = await openSse(url(host.token))
    const b = await openSse(`${t.url}/v1/feed/live?access_token=${host.token}`)
    const third = await request(t.url, "GET", "/v1/spaces/sse-1/live", { token: host.token })
    expect(third.status).toBe(429)
    expect(third.body).toMatchObject({ type: problem("too-many-streams"), limit: "perUser", max: 2 })

    const other = await client(t.url, "sse-other")
    const c = await openSse(url(other.token))
    const overall = await request(t.url, "GET", "/v1/feed/live", { token: other.token })
    expect(overall.status).toBe(429)
    expect(overall.body).toMatchObject({ type: problem("too-many-streams"), limit: "total", max: 3 })

    a.close()
    // The server sees the close asynchronously: wait (bounded) for the place to free up.
    let again = await openSse(url(host.token))
    for (let i = 0; i < 100 && again.status !== 200; i++) {
      again.close()
      await new Promise((r) => setTimeout(r, 20))
      again = await openSse(url(host.token))
    }
    expect(again.status).toBe(200)
    for (const s of [b, c, again]) s.close()
  })
})

describe("reading a Space's history is paged; posting is rate-limited per user per Space", () => {
  let t: TestServer
  let host: Client
  beforeAll(async () => {
    t = await startTestServer({ SPACES_POSTS_PER_MINUTE: "3", SPACES_LIVE_REPLAY_MAX: "2" })
    host = await client(t.url, "page-host")
    expect((await host.call("POST", "/v1/spaces", newSpace("page-1"))).status).toBe(201)
  })
  afterAll(() => t.close())

  it("posts: three per minute per user per Space, then 429 post-rate-limited; another user still may", async () => {
    const statuses: Array<number> = []
    for (let i = 0; i < 5; i++)
      statuses.push((await host.call("POST", "/v1/spaces/page-1/posts", { text: `post ${i}` })).status)
    expect(statuses).toEqual([201, 201, 201, 429, 429])
    const limited = await host.call("POST", "/v1/spaces/page-1/posts", { text: "more" })
    expect(limited.body).toMatchObject({ type: problem("post-rate-limited"), perMinute: 3 })
    expect(limited.headers.get("retry-after")).not.toBeNull()
    const other = await client(t.url, "page-other")
    expect((await other.call("POST", "/v1/spaces/page-1/posts", { text: "mine" })).status).toBe(201)
  })

  it("the room stream replays a long past a page per connection, resuming from Last-Event-ID", async () => {
    // SpaceCreated, SpaceStarted and the four posts of the test before: three pages of at most 2.
    const url = `${t.url}/v1/spaces/page-1/live?access_token=${host.token}`
    const seen: Array<string> = []
    let lastId: string | undefined
    for (let page = 0; page < 2; page++) {
      const stream = await openSse(url, lastId === undefined ? {} : { "last-event-id": lastId })
      expect(stream.status).toBe(200)
      const more = await stream.next((e) => e.event === "more")
      const spaceEvents = stream.events.filter((e) => e.event === "space")
      expect(spaceEvents.length).toBe(2)
      seen.push(...spaceEvents.map((e) => e.id!))
      expect(more.data).toEqual({ after: Number(spaceEvents[1]!.id) })
      lastId = spaceEvents[1]!.id
      stream.close()
    }
    // The last page: two events left, no `more`; the stream stays open for new events.
    const tail = await openSse(url, { "last-event-id": lastId! })
    const spaceOnes = () => tail.events.filter((e) => e.event === "space")
    await tail.next((e) => e.event === "space")
    for (let i = 0; i < 100 && spaceOnes().length < 2; i++) await new Promise((r) => setTimeout(r, 20))
    seen.push(...spaceOnes().map((e) => e.id!))
    expect(spaceOnes()).toHaveLength(2)
    expect(new Set(seen).size).toBe(6)
    expect(tail.events.some((e) => e.event === "more")).toBe(false)
    tail.close()
  })

  it("GET …/events pages with ?after= and ?limit=, and names the next page in a Link header", async () => {
    const whole: Array<{ position: number }> = []
    let after = 0
    let pages = 0
    for (;;) {
      const page = await host.call("GET", `/v1/spaces/page-1/events?after=${after}&limit=2`)
      expect(page.status).toBe(200)
      const entries = page.body as Array<{ position: number }>
      expect(entries.length).toBeLessThanOrEqual(2)
      pages++
      whole.push(...entries)
      const link = page.headers.get("link")
      if (entries.length < 2 || link === null) {
        expect(link).toBeNull()
        break
      }
      after = entries[entries.length - 1]!.position
      expect(link).toBe(`</v1/spaces/page-1/events?after=${after}&limit=2>; rel="next"`)
    }
    // SpaceCreated, SpaceStarted and four posts: the pages add up to the log, in order, once each.
    expect(whole.length).toBe(6)
    expect(pages).toBe(3)
    expect(whole.map((e) => e.position)).toEqual([...whole.map((e) => e.position)].sort((x, y) => x - y))
    const unpaged = await host.call("GET", "/v1/spaces/page-1/events")
    expect(unpaged.body).toHaveLength(6)
    expect((await host.call("GET", "/v1/spaces/page-1/events?limit=1001")).status).toBe(400)
  })
})

describe("titles and posts a reader can see", () => {
  it("refuses invisible, bidi-reordering, broken and control text with 422 naming the rule; stores NFC", async () => {
    const t = await startTestServer()
    try {
      const host = await client(t.url, "text-host")
      const titled = async (title: string) =>
        host.call("POST", "/v1/spaces", { ...newSpace("text-1"), title })
      for (const [title, rule] of [
        ["\u200B", "invisible-only"],
        ["abc\u202Etxt.exe", "bidi-control"],
        ["a\ud800b", "lone-surrogate"],
        ["hi\u0000\u001b[31m", "control-character"]
      ] as const) {
        const refused = await titled(title)
        expect(refused.status, title).toBe(422)
        expect(refused.body).toMatchObject({ type: problem("invalid-title"), rule })
      }
      expect((await titled("Cafe\u0301")).status).toBe(201)
      const view = await host.call("GET", "/v1/spaces/text-1")
      expect(JSON.stringify(view.body)).toContain("Caf\u00e9")
      const post = await host.call("POST", "/v1/spaces/text-1/posts", { text: "hi\u0000\u001b[31m" })
      expect(post.status).toBe(422)
      expect(post.body).toMatchObject({ type: problem("invalid-post"), rule: "control-character" })
    } finally {
      await t.close()
    }
  })
})

describe("/metrics is not public", () => {
  it("on the main port: loopback only, refused through a proxy, or with the metrics token", async () => {
    const t = await startTestServer()
    try {
      expect((await request(t.url, "GET", "/metrics")).status).toBe(200)
      const relayed = await request(t.url, "GET", "/metrics", {
        headers: { "x-forwarded-for": "203.0.113.9" }
      })
      expect(relayed.status).toBe(403)
      expect(relayed.body).toMatchObject({ type: problem("metrics-local-only") })
    } finally {
      await t.close()
    }
    const token = "metrics-token-0123456789"
    const withToken = await startTestServer({ SPACES_METRICS_TOKEN: token })
    try {
      expect((await request(withToken.url, "GET", "/metrics")).status).toBe(401)
      expect(
        (await request(withToken.url, "GET", "/metrics", { token: "wrong-token-0123456789" })).status
      ).toBe(401)
      const ok = await request(withToken.url, "GET", "/metrics", { token })
      expect(ok.status).toBe(200)
      expect(ok.text).toContain("spaces_sse_clients")
    } finally {
      await withToken.close()
    }
  })

  it("with SPACES_OPS_PORT: served there (with health and readiness), not on the main port", async () => {
    const t = await startTestServer({ SPACES_OPS_PORT: "0" })
    try {
      const ops = t.server.opsUrl
      expect(ops).toBeDefined()
      expect(ops).not.toBe(t.url)
      expect((await request(t.url, "GET", "/metrics")).status).toBe(404)
      const metrics = await request(ops!, "GET", "/metrics")
      expect(metrics.status).toBe(200)
      expect(metrics.text).toContain("spaces_sse_clients")
      expect((await request(ops!, "GET", "/healthz")).status).toBe(200)
      expect((await request(ops!, "GET", "/v1/feed")).status).toBe(404)
    } finally {
      await t.close()
    }
  })
})
