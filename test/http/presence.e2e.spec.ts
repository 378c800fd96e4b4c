import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig, type RunningServer, start } from "@spaces/http"
import { afterAll, describe, expect, it } from "vitest"
import { type Client, client, eventually, openSse, testEnv } from "./harness.js"

/** Long enough that "not yet" checks hold on a busy machine, short enough to wait out. */
const GRACE_MS = 3_000

interface Logged {
  readonly event: { readonly _tag: string; readonly user?: string; readonly reason?: string }
}

const leavesIn = async (reader: Client, spaceId: string) => {
  const log = (await reader.call("GET", `/v1/spaces/${spaceId}/events`)).body as ReadonlyArray<Logged>
  return log
    .filter((e) => e.event._tag === "ParticipantLeft" || e.event._tag === "HostLeft")
    .map((e) => `${e.event._tag} ${e.event.user} ${e.event.reason}`)
}

const createLive = async (host: Client) => {
  const created = await host.call("POST", "/v1/spaces", {
    title: "Who is here",
    topics: [],
    speakPolicy: "everyone",
    recording: false,
    captions: false
  })
  expect(created.status).toBe(201)
  return (created.body as { events: Array<{ spaceId: string }> }).events[0]!.spaceId
}

const liveStream = (server: RunningServer, who: Client, spaceId: string) =>
  openSse(`${server.url}/v1/spaces/${spaceId}/live`, { authorization: `Bearer ${who.token}` })

describe("presence over HTTP", () => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })
  const serve = (dir: string) =>
    start(loadConfig(testEnv(dir, { SPACES_DISCONNECT_GRACE_MS: String(GRACE_MS) })))

  it("a dropped stream leaves the participant as disconnected; a reconnect within the grace changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-presence-"))
    dirs.push(dir)
    const server = await serve(dir)
    try {
      const hana = await client(server.url, "hana")
      const lee = await client(server.url, "lee")
      const sam = await client(server.url, "sam")
      const spaceId = await createLive(hana)
      const hostStream = await liveStream(server, hana, spaceId)
      const leeStream = await liveStream(server, lee, spaceId)
      const samStream = await liveStream(server, sam, spaceId)
      for (const c of [lee, sam])
        expect((await c.call("POST", `/v1/spaces/${spaceId}/join`)).status).toBe(200)

      // sam's line drops for good; lee's drops and comes back at once (a reload).
      samStream.close()
      leeStream.close()
      const again = await liveStream(server, lee, spaceId)
      await again.next((e) => e.event === "space")
      const left = await eventually(
        () => leavesIn(hana, spaceId),
        (l) => l.length > 0,
        20_000
      )
      expect(left).toEqual(["ParticipantLeft sam disconnected"])

      // A walk-out says so.
      expect((await lee.call("POST", `/v1/spaces/${spaceId}/leave`)).status).toBe(200)
      expect(await leavesIn(hana, spaceId)).toEqual([
        "ParticipantLeft sam disconnected",
        "ParticipantLeft lee left"
      ])
      again.close()
      hostStream.close()
    } finally {
      await server.close()
    }
  })

  it("after a restart, everyone recorded in a live Space gets the grace from the restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-presence-"))
    dirs.push(dir)
    const first = await serve(dir)
    const hana = await client(first.url, "hana")
    const lee = await client(first.url, "lee")
    const spaceId = await createLive(hana)
    const streams = [await liveStream(first, hana, spaceId), await liveStream(first, lee, spaceId)]
    expect((await lee.call("POST", `/v1/spaces/${spaceId}/join`)).status).toBe(200)
    await first.close()
    for (const s of streams) s.close()

    const second = await serve(dir)
    try {
      const host = { ...hana, call: (await client(second.url, "hana")).call }
      // Nobody is connected yet, and nobody has been left: the grace runs from the restart.
      expect(await leavesIn(host, spaceId)).toEqual([])
      // The host's client comes back in time; lee's never does.
      const back = await liveStream(second, host, spaceId)
      await back.next((e) => e.event === "space")
      const left = await eventually(
        () => leavesIn(host, spaceId),
        (l) => l.length > 0,
        20_000
      )
      expect(left).toEqual(["ParticipantLeft lee disconnected"])
      const view = await host.call("GET", `/v1/spaces/${spaceId}`)
      expect((view.body as { hostAway: unknown }).hostAway).toBeNull()
      back.close()
    } finally {
      await second.close()
    }
  })
})
