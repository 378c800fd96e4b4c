import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, type Client, client, startTestServer, type TestServer } from "./harness.js"

const CONFLICT = "https://spaces.dev/problems/concurrency-conflict"

/** A client retries a 409 concurrency conflict (the server already retried the decision 25 times). */
const withRetry = async (send: () => Promise<Answer>): Promise<Answer> => {
  for (let attempt = 0; ; attempt++) {
    const answer = await send()
    const type = (answer.body as { type?: string } | undefined)?.type
    if (answer.status !== 409 || type !== CONFLICT || attempt >= 20) return answer
  }
}

interface State {
  readonly counts: { cohosts: number; speakers: number; listeners: number }
  readonly participants: ReadonlyArray<readonly [string, { role: string; muted: boolean }]>
  readonly raisedHands: ReadonlyArray<string>
}

describe("100 parallel joins and approvals against one Space", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  it("loses no update and keeps every invariant", async () => {
    const host = await client(t.url, "c-host")
    const created = await host.call("POST", "/v1/spaces", {
      spaceId: "crowd",
      title: "Crowd",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    })
    expect(created.status).toBe(201)
    const cohost = await client(t.url, "c-cohost")
    expect((await cohost.call("POST", "/v1/spaces/crowd/join")).status).toBe(200)
    expect(
      (await host.call("POST", "/v1/spaces/crowd/cohost-invitations", { user: "c-cohost" })).status
    ).toBe(200)
    expect((await cohost.call("POST", "/v1/spaces/crowd/cohost-invitations/accept")).status).toBe(200)

    const users: Array<Client> = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client(t.url, `c-user-${i}`))
    )
    const joins = await Promise.all(
      users.map((u) => withRetry(() => u.call("POST", "/v1/spaces/crowd/join")))
    )
    expect(joins.map((j) => j.status)).toEqual(users.map(() => 200))

    const hands = await Promise.all(
      users.map((u) => withRetry(() => u.call("POST", "/v1/spaces/crowd/hand")))
    )
    expect(hands.every((h) => h.status === 200)).toBe(true)

    // Host and co-host approve everybody at once; the stage holds 13 (host and co-host included).
    const approvals = await Promise.all(
      users.map((u, i) =>
        withRetry(() =>
          (i % 2 === 0 ? host : cohost).call("POST", `/v1/spaces/crowd/requests/${u.user}/approve`)
        )
      )
    )
    const statuses = approvals.map((a) => a.status)
    for (const a of approvals)
      if (a.status !== 200)
        expect((a.body as { type: string }).type).toBe("https://spaces.dev/problems/speaker-limit-reached")
    const approved = users.filter((_, i) => statuses[i] === 200).map((u) => u.user)
    expect(approved).toHaveLength(11)

    const { state } = (await host.call("GET", "/v1/spaces/crowd/state")).body as { state: State }
    const roles = new Map(state.participants.map(([user, p]) => [user, p.role]))
    // None lost: every acknowledged join is in the room, every approved user on stage.
    for (const u of users) expect(roles.has(u.user)).toBe(true)
    for (const user of approved) expect(roles.get(user)).toBe("speaker")
    // Invariants: one host, counters match the participants, limits hold, pending hands are listeners.
    const count = (role: string) => [...roles.values()].filter((r) => r === role).length
    expect(count("host")).toBe(1)
    expect(state.counts.cohosts).toBe(count("cohost"))
    expect(state.counts.speakers).toBe(count("host") + count("cohost") + count("speaker"))
    expect(state.counts.listeners).toBe(count("listener"))
    expect(state.counts.speakers).toBeLessThanOrEqual(13)
    expect(state.counts.listeners).toBe(100 - 11)
    expect(new Set(state.raisedHands).size).toBe(state.raisedHands.length)
    for (const user of state.raisedHands) expect(roles.get(user)).toBe("listener")
    expect(state.raisedHands).toHaveLength(100 - 11)

    // The room view (a projection) converges to the same counts.
    const view = await host.call("GET", "/v1/spaces/crowd?minPosition=0")
    expect(view.status).toBe(200)
  })
})
