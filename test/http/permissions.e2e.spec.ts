import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Client, client, request, serviceToken, startTestServer, type TestServer } from "./harness.js"

/**
 * Every command route × every standing in a live Space → the status SPEC implies: 2xx when the
 * role may do it, 403 when the role may not, 409 when the room's state makes it meaningless for
 * that caller (not in the room, nothing pending), 422 for a rule like following yourself.
 * Each cell runs against a fresh Space with fresh users (a user is in one live Space at a time).
 */
const roles = ["host", "cohost", "speaker", "listener", "outsider", "removed"] as const
type Role = (typeof roles)[number]
type Row = readonly [number, number, number, number, number, number]

interface Cell {
  readonly method: string
  readonly path: (f: Fixture) => string
  readonly body?: (f: Fixture) => unknown
  readonly expect: Row
}

interface Fixture {
  readonly space: string
  readonly users: Record<Role | "hand" | "guest", Client>
}

const S = (f: Fixture) => `/v1/spaces/${f.space}`

const live: Record<string, Cell> = {
  CreateSpace: {
    method: "POST",
    path: () => "/v1/spaces",
    body: () => ({
      title: "Another",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    }),
    // A user hosts at most one live Space: the host is refused, everybody else may host.
    expect: [409, 201, 201, 201, 201, 201]
  },
  EditSpace: {
    method: "PATCH",
    path: S,
    body: () => ({ title: "Renamed" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  ChangeSpeakPolicy: {
    method: "PUT",
    path: (f) => `${S(f)}/speak-policy`,
    body: () => ({ speakPolicy: "invited" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  SetRecording: {
    method: "PUT",
    path: (f) => `${S(f)}/recording`,
    body: () => ({ recording: true }),
    expect: [200, 403, 403, 403, 403, 403]
  },
  SetCaptions: {
    method: "PUT",
    path: (f) => `${S(f)}/captions`,
    body: () => ({ captions: false }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  JoinSpace: { method: "POST", path: (f) => `${S(f)}/join`, expect: [200, 200, 200, 200, 200, 403] },
  LeaveSpace: { method: "POST", path: (f) => `${S(f)}/leave`, expect: [200, 200, 200, 200, 409, 409] },
  EndSpace: { method: "POST", path: (f) => `${S(f)}/end`, expect: [200, 403, 403, 403, 403, 403] },
  RaiseHand: { method: "POST", path: (f) => `${S(f)}/hand`, expect: [409, 409, 409, 200, 409, 403] },
  LowerHand: { method: "DELETE", path: (f) => `${S(f)}/hand`, expect: [409, 409, 409, 409, 409, 409] },
  ApproveSpeakRequest: {
    method: "POST",
    path: (f) => `${S(f)}/requests/${f.users.hand.user}/approve`,
    expect: [200, 200, 403, 403, 403, 403]
  },
  DeclineSpeakRequest: {
    method: "POST",
    path: (f) => `${S(f)}/requests/${f.users.hand.user}/decline`,
    expect: [200, 200, 403, 403, 403, 403]
  },
  InviteSpeaker: {
    method: "POST",
    path: (f) => `${S(f)}/speaker-invitations`,
    body: (f) => ({ user: f.users.guest.user }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  AcceptSpeakerInvite: {
    method: "POST",
    path: (f) => `${S(f)}/speaker-invitations/accept`,
    expect: [409, 409, 409, 409, 409, 403]
  },
  DeclineSpeakerInvite: {
    method: "POST",
    path: (f) => `${S(f)}/speaker-invitations/decline`,
    expect: [409, 409, 409, 409, 409, 409]
  },
  InviteCoHost: {
    method: "POST",
    path: (f) => `${S(f)}/cohost-invitations`,
    body: (f) => ({ user: f.users.speaker.user }),
    expect: [200, 403, 403, 403, 403, 403]
  },
  AcceptCoHostInvite: {
    method: "POST",
    path: (f) => `${S(f)}/cohost-invitations/accept`,
    expect: [409, 409, 409, 409, 409, 403]
  },
  DeclineCoHostInvite: {
    method: "POST",
    path: (f) => `${S(f)}/cohost-invitations/decline`,
    expect: [409, 409, 409, 409, 409, 409]
  },
  RemoveCoHost: {
    method: "DELETE",
    path: (f) => `${S(f)}/cohosts/${f.users.cohost.user}`,
    expect: [200, 403, 403, 403, 403, 403]
  },
  StepDown: { method: "POST", path: (f) => `${S(f)}/step-down`, expect: [403, 200, 200, 409, 409, 409] },
  MuteSpeaker: {
    method: "POST",
    path: (f) => `${S(f)}/speakers/${f.users.speaker.user}/mute`,
    expect: [200, 200, 200, 403, 403, 403]
  },
  UnmuteSpeaker: {
    method: "POST",
    path: (f) => `${S(f)}/speakers/${f.users.speaker.user}/unmute`,
    expect: [403, 403, 200, 403, 403, 403]
  },
  MuteAll: { method: "POST", path: (f) => `${S(f)}/mute-all`, expect: [200, 200, 403, 403, 403, 403] },
  RemoveParticipant: {
    method: "DELETE",
    path: (f) => `${S(f)}/participants/${f.users.hand.user}`,
    expect: [200, 200, 403, 403, 403, 403]
  },
  PublishPost: {
    method: "POST",
    path: (f) => `${S(f)}/posts`,
    body: () => ({ text: "about this Space" }),
    expect: [201, 201, 201, 201, 201, 403]
  },
  PinPost: {
    method: "PUT",
    path: (f) => `${S(f)}/pinned-post`,
    body: () => ({ postId: "post-1" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  UnpinPost: { method: "DELETE", path: (f) => `${S(f)}/pinned-post`, expect: [200, 200, 403, 403, 403, 403] },
  AppendCaption: {
    method: "POST",
    path: (f) => `${S(f)}/captions/segments`,
    body: (f) => ({ segment: { speaker: f.users.speaker.user, text: "hi", startMs: 0, endMs: 10 } }),
    // A user is never the transcription service, whatever their role.
    expect: [403, 403, 403, 403, 403, 403]
  },
  Follow: {
    method: "PUT",
    path: (f) => `/v1/me/following/${f.users.host.user}`,
    expect: [422, 200, 200, 200, 200, 200]
  },
  Unfollow: {
    method: "DELETE",
    path: (f) => `/v1/me/following/${f.users.host.user}`,
    expect: [200, 200, 200, 200, 200, 200]
  },
  Reaction: {
    method: "POST",
    path: (f) => `${S(f)}/reactions`,
    body: () => ({ emoji: "🔥" }),
    expect: [202, 202, 202, 202, 403, 403]
  }
}

/** Commands on a scheduled Space: host or anyone else. */
const scheduled: Record<
  string,
  { method: string; path: (s: string) => string; body?: () => unknown; expect: readonly [number, number] }
> = {
  RescheduleSpace: {
    method: "POST",
    path: (s) => `/v1/spaces/${s}/reschedule`,
    body: () => ({ scheduledFor: Date.now() + 20 * 60_000 }),
    expect: [200, 403]
  },
  CancelSpace: { method: "POST", path: (s) => `/v1/spaces/${s}/cancel`, expect: [200, 403] },
  StartSpace: { method: "POST", path: (s) => `/v1/spaces/${s}/start`, expect: [200, 403] },
  SetReminder: { method: "PUT", path: (s) => `/v1/spaces/${s}/reminder`, expect: [200, 200] },
  RemoveReminder: { method: "DELETE", path: (s) => `/v1/spaces/${s}/reminder`, expect: [200, 200] }
}

describe("permission matrix over HTTP", () => {
  let t: TestServer
  let n = 0
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  const must = async (answer: Promise<{ status: number; body: unknown }>) => {
    const a = await answer
    if (a.status >= 300) throw new Error(`fixture step failed: ${a.status} ${JSON.stringify(a.body)}`)
  }

  const liveFixture = async (): Promise<Fixture> => {
    const id = ++n
    const names = ["host", "cohost", "speaker", "listener", "outsider", "removed", "hand", "guest"] as const
    const cs = await Promise.all(names.map((r) => client(t.url, `${r}-${id}`)))
    const users = Object.fromEntries(names.map((r, i) => [r, cs[i]!])) as Fixture["users"]
    const space = `pm-${id}`
    const body = {
      spaceId: space,
      title: "Matrix",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: true
    }
    await must(users.host.call("POST", "/v1/spaces", body))
    const path = `/v1/spaces/${space}`
    for (const r of ["cohost", "speaker", "listener", "removed", "hand"] as const)
      await must(users[r].call("POST", `${path}/join`))
    await must(users.host.call("POST", `${path}/cohost-invitations`, { user: users.cohost.user }))
    await must(users.cohost.call("POST", `${path}/cohost-invitations/accept`))
    await must(users.host.call("POST", `${path}/speaker-invitations`, { user: users.speaker.user }))
    await must(users.speaker.call("POST", `${path}/speaker-invitations/accept`))
    await must(users.hand.call("POST", `${path}/hand`))
    await must(users.host.call("DELETE", `${path}/participants/${users.removed.user}`))
    await must(users.listener.call("POST", `${path}/posts`, { postId: "post-1", text: "first" }))
    return { space, users }
  }

  for (const [name, cell] of Object.entries(live)) {
    it(`${name}: ${roles.map((r, i) => `${r} ${cell.expect[i]}`).join(", ")}`, async () => {
      const got: Array<number> = []
      for (const [i, role] of roles.entries()) {
        const f = await liveFixture()
        const answer = await f.users[role].call(cell.method, cell.path(f), cell.body?.(f))
        got.push(answer.status)
        if (answer.status >= 400) {
          expect(answer.headers.get("content-type")).toContain("application/problem+json")
          expect(answer.body).toMatchObject({ status: answer.status })
        }
        expect.soft(answer.status, `${role}: ${JSON.stringify(answer.body)}`).toBe(cell.expect[i])
      }
      expect(got).toEqual([...cell.expect])
    })
  }

  for (const [name, cell] of Object.entries(scheduled)) {
    it(`${name} on a scheduled Space: host ${cell.expect[0]}, anyone else ${cell.expect[1]}`, async () => {
      for (const [i, who] of ["host", "other"].entries()) {
        const id = ++n
        const host = await client(t.url, `host-${id}`)
        const caller = who === "host" ? host : await client(t.url, `other-${id}`)
        const space = `ps-${id}`
        await must(
          host.call("POST", "/v1/spaces", {
            spaceId: space,
            title: "Later",
            topics: [],
            speakPolicy: "everyone",
            recording: false,
            captions: false,
            scheduledFor: Date.now() + 10 * 60_000
          })
        )
        const answer = await caller.call(cell.method, cell.path(space), cell.body?.())
        expect(answer.status, `${who}: ${JSON.stringify(answer.body)}`).toBe(cell.expect[i])
      }
    })
  }

  it("AppendCaption with a service identity: 200; without the scope: 403", async () => {
    const f = await liveFixture()
    const body = { segment: { speaker: f.users.speaker.user, text: "hi", startMs: 0, endMs: 10 } }
    const svc = await serviceToken("transcriber")
    expect((await request(t.url, "POST", `${S(f)}/captions/segments`, { token: svc, body })).status).toBe(200)
    const { tokens } = await import("./harness.js")
    const { ServiceId } = await import("@spaces/domain")
    const unscoped = await tokens.issue({ kind: "service", serviceId: ServiceId.make("other"), scopes: [] })
    expect(
      (await request(t.url, "POST", `${S(f)}/captions/segments`, { token: unscoped, body })).status
    ).toBe(403)
    // A service can't act as a user.
    expect((await request(t.url, "POST", `${S(f)}/join`, { token: svc })).status).toBe(403)
  })
})
