import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type Client,
  client,
  eventually,
  openSse,
  request,
  serviceToken,
  startTestServer,
  type TestServer,
  type TestStore
} from "./harness.js"

interface Result {
  readonly events: ReadonlyArray<{ readonly _tag: string }>
  readonly position: number
}
const ok = (answer: { status: number; body: unknown }, status = 200) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  return answer.body as Result
}

const stores: ReadonlyArray<TestStore> = ["sqlite", "postgres"]

describe.each(stores)("a Space from follow to replay, over HTTP (event store: %s)", (store) => {
  let t: TestServer
  let hana: Client, cole: Client, sam: Client, lee: Client, fay: Client, bob: Client
  beforeAll(async () => {
    t = await startTestServer({}, { store })
    const c = (user: string) => client(t.url, user)
    ;[hana, cole, sam, lee, fay, bob] = await Promise.all([
      c("hana"),
      c("cole"),
      c("sam"),
      c("lee"),
      c("fay"),
      c("bob")
    ])
  })
  afterAll(() => t.close())

  it("runs the whole lifecycle and the views follow through SSE", async () => {
    ok(await fay.call("PUT", "/v1/me/following/hana"))
    const feed = await openSse(`${t.url}/v1/feed/live?access_token=${fay.token}`)
    expect(feed.status).toBe(200)
    await feed.next((e) => e.event === "feed")

    // Schedule, remind, start
    const scheduledFor = Date.now() + 10 * 60_000
    const created = await hana.call("POST", "/v1/spaces", {
      spaceId: "sp-1",
      title: "Hello audio",
      topics: ["music"],
      speakPolicy: "everyone",
      recording: true,
      captions: true,
      scheduledFor
    })
    ok(created, 201)
    expect(created.headers.get("location")).toBe("/v1/spaces/sp-1")
    ok(await fay.call("PUT", "/v1/spaces/sp-1/reminder"))
    const reminders = await fay.call("GET", "/v1/me/reminders?minPosition=0")
    expect(
      (
        await eventually(
          () => fay.call("GET", "/v1/me/reminders"),
          (a) => Array.isArray(a.body) && a.body.length === 1
        )
      ).body
    ).toMatchObject([{ spaceId: "sp-1", reminders: 1 }])
    expect(reminders.status).toBe(200)
    const upcoming = await hana.call("GET", "/v1/topics/music")
    expect(upcoming.status).toBe(200)
    const started = ok(await hana.call("POST", "/v1/spaces/sp-1/start"))
    expect(started.events.map((e) => e._tag)).toEqual(["SpaceStarted"])

    // The follower's live bar shows the Space within a second or so (bounded wait).
    const inFeed = await feed.next(
      (e) =>
        e.event === "feed" &&
        Array.isArray(e.data) &&
        e.data.some((f: { space: { spaceId: string } }) => f.space.spaceId === "sp-1")
    )
    expect(inFeed.data).toMatchObject([
      { space: { spaceId: "sp-1", host: "hana" }, followsHostOrSpeaker: true }
    ])

    // The room stream
    const room = await openSse(`${t.url}/v1/spaces/sp-1/live`, { authorization: `Bearer ${lee.token}` })
    await room.next((e) => e.event === "space" && (e.data as { type: string }).type === "SpaceStarted")

    // Join, raise hand, approve
    ok(await lee.call("POST", "/v1/spaces/sp-1/join"))
    ok(await bob.call("POST", "/v1/spaces/sp-1/join"))
    ok(await lee.call("POST", "/v1/spaces/sp-1/hand"))
    const approved = ok(await hana.call("POST", "/v1/spaces/sp-1/requests/lee/approve"))
    await room.next(
      (e) => e.event === "space" && (e.data as { type: string }).type === "SpeakRequestApproved"
    )

    // Invitations and co-host
    ok(await hana.call("POST", "/v1/spaces/sp-1/speaker-invitations", { user: "sam" }))
    ok(await sam.call("POST", "/v1/spaces/sp-1/speaker-invitations/accept"))
    ok(await hana.call("POST", "/v1/spaces/sp-1/cohost-invitations", { user: "cole" }))
    ok(await cole.call("POST", "/v1/spaces/sp-1/cohost-invitations/accept"))

    // Mute: a co-host mutes, only the speaker unmutes
    ok(await sam.call("POST", "/v1/spaces/sp-1/speakers/sam/unmute"))
    ok(await cole.call("POST", "/v1/spaces/sp-1/speakers/sam/mute"))
    const notYours = await cole.call("POST", "/v1/spaces/sp-1/speakers/sam/unmute")
    expect(notYours.status).toBe(403)
    expect(notYours.headers.get("content-type")).toContain("application/problem+json")
    expect(notYours.body).toMatchObject({
      type: "https://spaces.dev/problems/only-speaker-can-unmute",
      status: 403
    })

    // Remove: banned from the Space
    ok(await cole.call("DELETE", "/v1/spaces/sp-1/participants/bob"))
    const rejoin = await bob.call("POST", "/v1/spaces/sp-1/join")
    expect(rejoin.body).toMatchObject({ status: 403, type: "https://spaces.dev/problems/banned-from-space" })

    // Posts: the Location of a new post answers it
    const published = await lee.call("POST", "/v1/spaces/sp-1/posts", {
      postId: "post-1",
      text: "great room"
    })
    const post = ok(published, 201)
    expect(post.events[0]?._tag).toBe("PostPublished")
    expect(published.headers.get("location")).toBe("/v1/spaces/sp-1/posts/post-1")
    expect(ok(await fay.call("GET", "/v1/spaces/sp-1/posts/post-1"))).toMatchObject({
      postId: "post-1",
      author: "lee",
      text: "great room"
    })
    expect((await fay.call("GET", "/v1/spaces/sp-1/posts/post-9")).body).toMatchObject({
      status: 404,
      type: "https://spaces.dev/problems/post-not-found"
    })
    ok(await hana.call("PUT", "/v1/spaces/sp-1/pinned-post", { postId: "post-1" }))

    // Captions: a service identity only
    const segment = { speaker: "sam", text: "hello everyone", startMs: 0, endMs: 1200 }
    const byUser = await sam.call("POST", "/v1/spaces/sp-1/captions/segments", { segment })
    expect(byUser.status).toBe(403)
    const svc = await serviceToken("transcriber")
    const caption = await request(t.url, "POST", "/v1/spaces/sp-1/captions/segments", {
      token: svc,
      body: { segment }
    })
    expect(caption.status).toBe(200)

    // Reactions are broadcast, not stored
    const before = await t.logLength()
    expect((await lee.call("POST", "/v1/spaces/sp-1/reactions", { emoji: "👏" })).status).toBe(202)
    await room.next((e) => e.event === "reaction" && (e.data as { emoji: string }).emoji === "👏")
    expect(await t.logLength()).toBe(before)

    // Idempotency: a replay answers the same, applies nothing
    const first = await lee.call(
      "POST",
      "/v1/spaces/sp-1/posts",
      { postId: "post-2", text: "again" },
      { "idempotency-key": "k-1" }
    )
    const again = await lee.call(
      "POST",
      "/v1/spaces/sp-1/posts",
      { postId: "post-2", text: "again" },
      { "idempotency-key": "k-1" }
    )
    expect(again.status).toBe(first.status)
    expect(again.body).toEqual(first.body)
    expect(again.headers.get("idempotent-replayed")).toBe("true")

    // Views: room, topic, search, creator
    const roomView = await hana.call("GET", `/v1/spaces/sp-1?minPosition=${(first.body as Result).position}`)
    expect(roomView.body).toMatchObject({
      status: "live",
      host: "hana",
      pinnedPost: { postId: "post-1" },
      counts: { cohosts: 1, speakers: 4 }
    })
    const topic = await hana.call("GET", "/v1/topics/music")
    expect(topic.body).toMatchObject({ topic: "music", live: [{ spaceId: "sp-1" }] })
    const search = await hana.call("GET", "/v1/search?q=hello")
    expect(search.body).toMatchObject({ live: [{ spaceId: "sp-1" }] })

    // End: the live bar empties, the creator index lists it as ended (recorded)
    const ended = ok(await hana.call("POST", "/v1/spaces/sp-1/end"))
    await feed.next((e) => e.event === "feed" && Array.isArray(e.data) && e.data.length === 0)
    const creator = await hana.call("GET", `/v1/creators/hana?minPosition=${ended.position}`)
    expect(creator.body).toMatchObject({ live: [], ended: [{ spaceId: "sp-1", recorded: true }] })
    const afterEnd = await lee.call("POST", "/v1/spaces/sp-1/hand")
    expect(afterEnd.body).toMatchObject({ status: 409, type: "https://spaces.dev/problems/space-has-ended" })

    // Replay: the full log, and the state at any position
    const log = await hana.call("GET", "/v1/spaces/sp-1/events")
    const tags = (log.body as Array<{ event: { _tag: string } }>).map((e) => e.event._tag)
    expect(tags[0]).toBe("SpaceCreated")
    expect(tags.at(-1)).toBe("SpaceEnded")
    expect(tags).toContain("CaptionAppended")
    const then = await hana.call("GET", `/v1/spaces/sp-1/state?position=${approved.position}`)
    const state = (
      then.body as { state: { status: string; participants: Array<[string, { role: string }]> } }
    ).state
    expect(state.status).toBe("live")
    expect(state.participants.find(([u]) => u === "lee")?.[1].role).toBe("speaker")
    const now = await hana.call("GET", `/v1/spaces/sp-1/state?at=${new Date().toISOString()}`)
    expect((now.body as { state: { status: string } }).state.status).toBe("ended")

    feed.close()
    room.close()
  })

  it("answers problems for bad tokens, unknown Spaces and malformed bodies", async () => {
    expect((await request(t.url, "GET", "/v1/feed")).status).toBe(401)
    expect((await request(t.url, "GET", "/v1/feed", { token: "nope" })).body).toMatchObject({ status: 401 })
    expect((await hana.call("GET", "/v1/spaces/none")).status).toBe(404)
    const bad = await hana.call("POST", "/v1/spaces", { title: 5, by: "mallory" })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ type: "https://spaces.dev/problems/malformed-request" })
    const openapi = await request(t.url, "GET", "/openapi.json")
    expect(openapi.body).toMatchObject({ openapi: "3.1.0" })
    const metrics = await request(t.url, "GET", "/metrics")
    expect(metrics.text).toContain("spaces_http_requests_total")
    expect((await request(t.url, "GET", "/readyz")).status).toBe(200)
  })
})
