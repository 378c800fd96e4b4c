import { commandRoutes, OPERATOR_SCOPE, routeKey } from "@spaces/http"
import { ServiceId } from "@spaces/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type Client,
  client,
  request,
  serviceToken,
  startTestServer,
  type TestServer,
  tokens,
  userToken
} from "./harness.js"

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
  /** The `:user` of the route's path, when it has one. */
  readonly user?: (f: Fixture) => string
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
    body: () => ({ title: "Renamed" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  ChangeSpeakPolicy: {
    body: () => ({ speakPolicy: "invited" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  SetRecording: {
    body: () => ({ recording: true }),
    expect: [200, 403, 403, 403, 403, 403]
  },
  SetCaptions: {
    body: () => ({ captions: false }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  JoinSpace: { expect: [200, 200, 200, 200, 200, 403] },
  LeaveSpace: { expect: [200, 200, 200, 200, 409, 409] },
  EndSpace: { expect: [200, 403, 403, 403, 403, 403] },
  RaiseHand: { expect: [409, 409, 409, 200, 409, 403] },
  LowerHand: { expect: [409, 409, 409, 409, 409, 409] },
  ApproveSpeakRequest: {
    user: (f) => f.users.hand.user,
    expect: [200, 200, 403, 403, 403, 403]
  },
  DeclineSpeakRequest: {
    user: (f) => f.users.hand.user,
    expect: [200, 200, 403, 403, 403, 403]
  },
  InviteSpeaker: {
    body: (f) => ({ user: f.users.guest.user }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  AcceptSpeakerInvite: {
    expect: [409, 409, 409, 409, 409, 403]
  },
  DeclineSpeakerInvite: {
    expect: [409, 409, 409, 409, 409, 409]
  },
  InviteCoHost: {
    body: (f) => ({ user: f.users.speaker.user }),
    expect: [200, 403, 403, 403, 403, 403]
  },
  AcceptCoHostInvite: {
    expect: [409, 409, 409, 409, 409, 403]
  },
  DeclineCoHostInvite: {
    expect: [409, 409, 409, 409, 409, 409]
  },
  RemoveCoHost: {
    user: (f) => f.users.cohost.user,
    expect: [200, 403, 403, 403, 403, 403]
  },
  StepDown: { expect: [403, 200, 200, 409, 409, 409] },
  MuteSpeaker: {
    user: (f) => f.users.speaker.user,
    expect: [200, 200, 200, 403, 403, 403]
  },
  UnmuteSpeaker: {
    user: (f) => f.users.speaker.user,
    expect: [403, 403, 200, 403, 403, 403]
  },
  MuteAll: { expect: [200, 200, 403, 403, 403, 403] },
  RemoveParticipant: {
    user: (f) => f.users.hand.user,
    expect: [200, 200, 403, 403, 403, 403]
  },
  PublishPost: {
    body: () => ({ text: "about this Space" }),
    expect: [201, 201, 201, 201, 201, 403]
  },
  PinPost: {
    body: () => ({ postId: "post-1" }),
    expect: [200, 200, 403, 403, 403, 403]
  },
  UnpinPost: { expect: [200, 200, 403, 403, 403, 403] },
  AppendCaption: {
    body: (f) => ({ segment: { speaker: f.users.speaker.user, text: "hi", startMs: 0, endMs: 10 } }),
    // A user is never the transcription service, whatever their role.
    expect: [403, 403, 403, 403, 403, 403]
  },
  Follow: {
    user: (f) => f.users.host.user,
    expect: [422, 200, 200, 200, 200, 200]
  },
  Unfollow: {
    user: (f) => f.users.host.user,
    expect: [200, 200, 200, 200, 200, 200]
  },
  Reaction: {
    body: () => ({ emoji: "🔥" }),
    expect: [202, 202, 202, 202, 403, 403]
  }
}

/** Commands on a scheduled Space: host or anyone else. */
const scheduled: Record<string, { body?: () => unknown; expect: readonly [number, number] }> = {
  RescheduleSpace: {
    body: () => ({ scheduledFor: Date.now() + 20 * 60_000 }),
    expect: [200, 403]
  },
  CancelSpace: { expect: [200, 403] },
  StartSpace: { expect: [200, 403] },
  SetReminder: { expect: [200, 200] },
  RemoveReminder: { expect: [200, 200] }
}

/** Routes that are not commands, by the name the matrix gives them. */
const otherRoutes: Record<string, string> = { Reaction: "POST /v1/spaces/:spaceId/reactions" }

/** The registry's route a matrix row is about. */
const routeOf = (name: string) => {
  const command = commandRoutes.find((route) => route.tag === name)
  return command === undefined ? otherRoutes[name] : routeKey(command)
}

/** The method and path a row calls: the registry's route with the Space (and `:user`) filled in. */
const target = (name: string, space: string, user?: string) => {
  const key = routeOf(name)
  if (key === undefined) throw new Error(`${name} is no route of the registry`)
  const [method, path] = key.split(" ") as [string, string]
  return { method, path: path.replace(":spaceId", space).replace(":user", user ?? "") }
}

/**
 * Routes outside the role matrix, and where who may call them is checked instead. Every route of the
 * registry is in the matrix or here: a new route fails the suite until its permissions are placed.
 */
const SIGNED_IN = "any signed-in user reads it (the check below: 401 without a token, 403 for a service)"
const OWN =
  "the caller's own data, by the token's user (the check below; test/http/notifications.e2e.spec.ts, webPush.e2e.spec.ts)"
const MEDIA =
  "a participant of the live Space, as the media plane decides (test/http/media.e2e.spec.ts, mediaLimits.e2e.spec.ts)"
const elsewhere: Record<string, string> = {
  "GET /healthz": "public: operations probe",
  "GET /readyz": "public: operations probe",
  "GET /metrics": "its own token or loopback: test/http/hardening.e2e.spec.ts",
  "GET /openapi.json": "public: the API description",
  "POST /v1/dev/token": "public when development sign-in is on: test/http/devAuth.e2e.spec.ts",
  "GET /v1/auth/config": "public: how to sign in",
  "GET /s/:spaceId": "public: share links unfurl anonymously (test/http/share.e2e.spec.ts)",
  "POST /v1/operator/spaces/:spaceId/end":
    "operator scope only (the check below; test/http/operator.e2e.spec.ts)",
  "GET /v1/captions/spaces":
    "captions scope only (the check below; test/http/externalTranscriber.e2e.spec.ts)",
  "POST /v1/spaces/:spaceId/media/taps":
    "media-tap scope only (the check below; test/http/externalTranscriber.e2e.spec.ts)",
  "DELETE /v1/spaces/:spaceId/media/taps/:tapId":
    "media-tap scope only (the check below; test/http/externalTranscriber.e2e.spec.ts)",
  "POST /v1/spaces/:spaceId/captions/partials":
    "captions scope only (the check below; test/http/externalTranscriber.e2e.spec.ts)",
  "GET /v1/spaces/:spaceId": SIGNED_IN,
  "GET /v1/feed": SIGNED_IN,
  "GET /v1/topics": SIGNED_IN,
  "GET /v1/topics/:topic": SIGNED_IN,
  "GET /v1/search": SIGNED_IN,
  "GET /v1/creators/:user": SIGNED_IN,
  "GET /v1/spaces/:spaceId/events": SIGNED_IN,
  "GET /v1/spaces/:spaceId/state": SIGNED_IN,
  "GET /v1/spaces/:spaceId/transcript": SIGNED_IN,
  "GET /v1/spaces/:spaceId/posts/:postId": SIGNED_IN,
  "GET /v1/spaces/:spaceId/transcript.vtt": SIGNED_IN,
  "GET /v1/spaces/:spaceId/live": SIGNED_IN,
  "GET /v1/spaces/:spaceId/recording": SIGNED_IN,
  "GET /v1/me/reminders": OWN,
  "GET /v1/feed/live": OWN,
  "GET /v1/me/notifications": OWN,
  "POST /v1/me/notifications/read": OWN,
  "GET /v1/me/notifications/live": OWN,
  "GET /v1/push/key": OWN,
  "POST /v1/me/push-subscriptions": OWN,
  "DELETE /v1/me/push-subscriptions": OWN,
  "GET /v1/spaces/:spaceId/media/capabilities": MEDIA,
  "GET /v1/spaces/:spaceId/media/producers": MEDIA,
  "POST /v1/spaces/:spaceId/media/transports": MEDIA,
  "POST /v1/spaces/:spaceId/media/transports/:transportId/connect": MEDIA,
  "POST /v1/spaces/:spaceId/media/produce": MEDIA,
  "POST /v1/spaces/:spaceId/media/consume": MEDIA,
  "POST /v1/spaces/:spaceId/media/consumers/:consumerId/resume": MEDIA,
  "DELETE /v1/spaces/:spaceId/media/transports/:transportId": MEDIA,
  "GET /v1/spaces/:spaceId/recording/tracks/:file":
    "a signed-in user or the manifest's signed URL: test/http/recordings.e2e.spec.ts"
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
        const { method, path } = target(name, f.space, cell.user?.(f))
        const answer = await f.users[role].call(method, path, cell.body?.(f))
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
        const { method, path } = target(name, space)
        const answer = await caller.call(method, path, cell.body?.())
        expect(answer.status, `${who}: ${JSON.stringify(answer.body)}`).toBe(cell.expect[i])
      }
    })
  }

  it("places every route of the registry: in the matrix, or named where its permissions are checked", () => {
    const inMatrix = new Set([...Object.keys(live), ...Object.keys(scheduled)].map(routeOf))
    const unplaced = t.server.routes
      .map(routeKey)
      .filter((key) => !inMatrix.has(key) && elsewhere[key] === undefined)
    expect(unplaced, "routes with no permission check").toEqual([])
    const registered = new Set(t.server.routes.map(routeKey))
    for (const key of [...inMatrix, ...Object.keys(elsewhere)]) expect(registered).toContain(key)
  })

  it("refuses every non-public route without a token, and the wrong kind of principal, before anything else", async () => {
    const user = await userToken("perm-principal")
    const captions = await serviceToken("perm-transcriber")
    const operator = await tokens.issue({
      kind: "service",
      serviceId: ServiceId.make("perm-operator"),
      scopes: [OPERATOR_SCOPE]
    })
    for (const route of t.server.routes) {
      if (route.auth === "public") continue
      const method = route.method.toUpperCase()
      const path = route.path.replace(/:(\w+)/g, (_, name: string) =>
        name === "file" ? "001-p1.opus" : "p1"
      )
      const wrong =
        route.auth === "user" || route.auth === "user-or-signed-url"
          ? [captions, operator]
          : route.auth === "operator"
            ? [user, captions]
            : [user, operator]
      const answers = [
        (await request(t.url, method, path)).status,
        ...(await Promise.all(wrong.map((token) => request(t.url, method, path, { token })))).map(
          (a) => a.status
        )
      ]
      expect(answers, `${routeKey(route)} (${JSON.stringify(route.auth)})`).toEqual([401, 403, 403])
    }
  })

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
