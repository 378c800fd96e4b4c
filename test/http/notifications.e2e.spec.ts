import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, type Client, client, openSse, startTestServer, type TestServer } from "./harness.js"

/** Notifications over HTTP: who gets what, unread and read marks, paging, the live stream. */

interface Listed {
  readonly id: number
  readonly kind: string
  readonly spaceId: string
  readonly title: string
  readonly actor: string | null
  readonly link: string
  readonly read: boolean
  readonly text?: string
  readonly recorded?: boolean
}
interface Page {
  readonly notifications: ReadonlyArray<Listed>
  readonly nextCursor: number | null
  readonly unread: number
  readonly readUpTo: number
}

const ok = (a: Answer, status = 200) => {
  if (a.status !== status) throw new Error(`expected ${status}, got ${a.status}: ${a.text}`)
  return a
}
const positionOf = (a: Answer) => (a.body as { position: number }).position

const everyone = [
  "hana", // host
  "fay", // follows hana
  "finn", // follows hana
  "rita", // reminder on the Space (follows nobody)
  "sam", // raises a hand, approved: on stage
  "sue", // follows sam
  "lee", // raises a hand, declined
  "ivy", // invited to speak (never joins)
  "cole", // joins, invited to co-host
  "max", // joins, removed
  "xena" // does nothing: hears of nothing
] as const
type Name = (typeof everyone)[number]

/** The scenario's expected notifications, per user (kinds with the Space they are about). */
const expected: Record<Name, ReadonlyArray<string>> = {
  hana: [],
  fay: ["space-scheduled", "space-started"],
  finn: ["space-scheduled", "space-started"],
  rita: ["reminder-started"],
  sam: ["request-approved", "space-ended"],
  sue: ["on-stage", "space-shared"],
  lee: ["request-declined", "space-ended"],
  ivy: ["speaker-invited"],
  cole: ["cohost-invited", "space-ended"],
  max: ["removed", "space-ended"],
  xena: []
}

/** Runs the scenario on a fresh server; answers every user's list once the views include the end. */
const scenario = async (t: TestServer) => {
  const c = Object.fromEntries(
    await Promise.all(everyone.map(async (u) => [u, await client(t.url, u)]))
  ) as Record<Name, Client>
  ok(await c.fay.call("PUT", "/v1/me/following/hana"))
  ok(await c.finn.call("PUT", "/v1/me/following/hana"))
  ok(await c.sue.call("PUT", "/v1/me/following/sam"))
  ok(
    await c.hana.call("POST", "/v1/spaces", {
      spaceId: "n-1",
      title: "Night <b>owls</b>",
      topics: [],
      speakPolicy: "everyone",
      recording: true,
      captions: false,
      scheduledFor: Date.now() + 10 * 60_000
    }),
    201
  )
  ok(await c.rita.call("PUT", "/v1/spaces/n-1/reminder"))
  ok(await c.hana.call("POST", "/v1/spaces/n-1/start"))
  for (const u of ["sam", "lee", "cole", "max"] as const) ok(await c[u].call("POST", "/v1/spaces/n-1/join"))
  ok(await c.sam.call("POST", "/v1/spaces/n-1/hand"))
  ok(await c.hana.call("POST", "/v1/spaces/n-1/requests/sam/approve"))
  ok(await c.lee.call("POST", "/v1/spaces/n-1/hand"))
  ok(await c.hana.call("POST", "/v1/spaces/n-1/requests/lee/decline"))
  ok(await c.hana.call("POST", "/v1/spaces/n-1/speaker-invitations", { user: "ivy" }))
  ok(await c.hana.call("POST", "/v1/spaces/n-1/cohost-invitations", { user: "cole" }))
  ok(await c.hana.call("DELETE", "/v1/spaces/n-1/participants/max"))
  ok(await c.sam.call("POST", "/v1/spaces/n-1/posts", { postId: "n-post", text: "come listen" }), 201)
  const end = ok(await c.hana.call("POST", "/v1/spaces/n-1/end"))
  const lists = {} as Record<Name, Page>
  for (const u of everyone)
    lists[u] = ok(await c[u].call("GET", `/v1/me/notifications?limit=100&minPosition=${positionOf(end)}`))
      .body as Page
  return { c, lists }
}

const kindsOf = (page: Page) =>
  page.notifications
    .map((n) => n.kind)
    .slice()
    .sort()

describe.each([
  ["fanned out on write", "2000"],
  ["merged at read (every audience over the threshold)", "1"]
])("notifications reach exactly the right people (%s)", (_, threshold) => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({ SPACES_NOTIFICATIONS_FAN_OUT_THRESHOLD: threshold })
  })
  afterAll(() => t.close())

  it("each kind goes to its audience and nobody else, newest first, with links into the Space", async () => {
    const { lists } = await scenario(t)
    for (const u of everyone)
      expect({ user: u, kinds: kindsOf(lists[u]) }).toEqual({ user: u, kinds: [...expected[u]].sort() })
    for (const u of everyone) {
      const ids = lists[u].notifications.map((n) => n.id)
      expect(ids).toEqual([...ids].sort((a, b) => b - a))
      expect(lists[u].unread).toBe(expected[u].length)
      for (const n of lists[u].notifications) expect(n.spaceId).toBe("n-1")
    }
    const shared = lists.sue.notifications.find((n) => n.kind === "space-shared")
    expect(shared).toMatchObject({ actor: "sam", link: "/s/n-1", text: "come listen" })
    expect(lists.sue.notifications.find((n) => n.kind === "on-stage")).toMatchObject({ actor: "sam" })
    expect(lists.fay.notifications.find((n) => n.kind === "space-started")).toMatchObject({
      actor: "hana",
      link: "/#/space/n-1",
      title: "Night <b>owls</b>"
    })
    expect(lists.max.notifications.find((n) => n.kind === "space-ended")).toMatchObject({
      recorded: true,
      link: "/#/replay/n-1"
    })
  })
})

describe("unread count, read marks, paging and the live stream", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  it("marks read up to an id; pages older with the cursor; refuses a mark ahead of the list", async () => {
    const fay = await client(t.url, "fay")
    const hana = await client(t.url, "hana")
    ok(await fay.call("PUT", "/v1/me/following/hana"))
    let last: Answer | undefined
    for (let i = 0; i < 5; i++)
      last = ok(
        await hana.call("POST", "/v1/spaces", {
          spaceId: `r-${i}`,
          title: `Later ${i}`,
          topics: [],
          speakPolicy: "everyone",
          recording: false,
          captions: false,
          scheduledFor: Date.now() + (10 + i) * 60_000
        }),
        201
      )
    const all = ok(await fay.call("GET", `/v1/me/notifications?minPosition=${positionOf(last!)}`))
      .body as Page
    expect(all.notifications.map((n) => n.title)).toEqual([
      "Later 4",
      "Later 3",
      "Later 2",
      "Later 1",
      "Later 0"
    ])
    expect(all.unread).toBe(5)
    expect(all.notifications.every((n) => !n.read)).toBe(true)

    const first = ok(await fay.call("GET", "/v1/me/notifications?limit=2")).body as Page
    expect(first.notifications.map((n) => n.title)).toEqual(["Later 4", "Later 3"])
    const second = ok(await fay.call("GET", `/v1/me/notifications?limit=2&before=${first.nextCursor}`))
      .body as Page
    expect(second.notifications.map((n) => n.title)).toEqual(["Later 2", "Later 1"])
    const third = ok(await fay.call("GET", `/v1/me/notifications?limit=2&before=${second.nextCursor}`))
      .body as Page
    expect(third.notifications.map((n) => n.title)).toEqual(["Later 0"])
    expect(third.nextCursor).toBeNull()
    expect(third.unread).toBe(5)

    const middle = all.notifications[2]!.id
    const marked = ok(await fay.call("POST", "/v1/me/notifications/read", { upTo: middle })).body
    expect(marked).toMatchObject({ readUpTo: middle, unread: 2 })
    const after = ok(await fay.call("GET", "/v1/me/notifications")).body as Page
    expect(after.notifications.map((n) => n.read)).toEqual([false, false, true, true, true])
    // Marks only move forward: an older one changes nothing.
    expect(
      ok(await fay.call("POST", "/v1/me/notifications/read", { upTo: all.notifications[4]!.id })).body
    ).toMatchObject({
      readUpTo: middle,
      unread: 2
    })
    const ahead = await fay.call("POST", "/v1/me/notifications/read", {
      upTo: all.notifications[0]!.id + 1000
    })
    expect(ahead.status).toBe(422)
    expect(ahead.body).toMatchObject({ type: "https://spaces.dev/problems/unknown-notification" })
    expect((await fay.call("POST", "/v1/me/notifications/read", { upTo: "x" })).status).toBe(400)
    expect((await fay.call("GET", "/v1/me/notifications?limit=0")).status).toBe(400)
    ok(await fay.call("POST", "/v1/me/notifications/read", { upTo: all.notifications[0]!.id }))
    expect((ok(await fay.call("GET", "/v1/me/notifications")).body as Page).unread).toBe(0)
    // Someone else's list is untouched by fay's marks.
    expect((ok(await hana.call("GET", "/v1/me/notifications")).body as Page).unread).toBe(0)
  })

  it("the live stream sends new notifications and the unread count, and resumes with Last-Event-ID", async () => {
    const gus = await client(t.url, "gus")
    const ada = await client(t.url, "ada")
    ok(await gus.call("PUT", "/v1/me/following/ada"))
    const create = (spaceId: string) =>
      ada.call("POST", "/v1/spaces", {
        spaceId,
        title: spaceId,
        topics: [],
        speakPolicy: "everyone",
        recording: false,
        captions: false,
        scheduledFor: Date.now() + 30 * 60_000
      })
    const live = await openSse(`${t.url}/v1/me/notifications/live?access_token=${gus.token}`)
    expect(live.status).toBe(200)
    await live.next((e) => e.event === "unread" && (e.data as { unread: number }).unread === 0)
    ok(await create("live-1"), 201)
    const first = await live.next((e) => e.event === "notification")
    expect(first.data).toMatchObject({
      kind: "space-scheduled",
      spaceId: "live-1",
      actor: "ada",
      read: false
    })
    expect(first.id).toBe(String((first.data as Listed).id))
    await live.next((e) => e.event === "unread" && (e.data as { unread: number }).unread === 1)
    live.close()

    // Missed while away: sent first on resume, and only those.
    ok(await create("live-2"), 201)
    const missed = ok(await create("live-3"), 201)
    ok(await gus.call("GET", `/v1/me/notifications?minPosition=${positionOf(missed)}`))
    const resumed = await openSse(`${t.url}/v1/me/notifications/live?access_token=${gus.token}`, {
      "last-event-id": first.id!
    })
    await resumed.next((e) => e.event === "unread" && (e.data as { unread: number }).unread === 3)
    const sent = resumed.events
      .filter((e) => e.event === "notification")
      .map((e) => (e.data as Listed).spaceId)
    expect(sent).toEqual(["live-2", "live-3"])
    // Marking read elsewhere updates the count live.
    const newest = Number(resumed.events.filter((e) => e.event === "notification").at(-1)!.id)
    ok(await gus.call("POST", "/v1/me/notifications/read", { upTo: newest }))
    await resumed.next((e) => e.event === "unread" && (e.data as { unread: number }).unread === 0)
    resumed.close()
  })
})
