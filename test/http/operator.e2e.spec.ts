import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ServiceId } from "@spaces/domain"
import { loadConfig, OPERATOR_SCOPE, start } from "@spaces/http"
import { afterAll, describe, expect, it } from "vitest"
import { client, eventually, request, serviceToken, startTestServer, testEnv, tokens } from "./harness.js"

const root = new URL("../..", import.meta.url).pathname

/** `spaces …` as an operator types it, in its own process. */
const spacesCli = (dbPath: string, ...args: Array<string>) => {
  const run = spawnSync(
    process.execPath,
    ["--conditions=@spaces/source", "--import", "tsx", "packages/projections/src/bin/spaces.ts", ...args],
    { cwd: root, env: { ...process.env, SPACES_DB_PATH: dbPath }, encoding: "utf8" }
  )
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

const operatorToken = (name: string) =>
  tokens.issue({ kind: "service", serviceId: ServiceId.make(name), scopes: [OPERATOR_SCOPE] })

const createSpace = async (base: string, host: string) => {
  const hana = await client(base, host)
  const created = await hana.call("POST", "/v1/spaces", {
    title: "Late show",
    topics: [],
    speakPolicy: "everyone",
    recording: false,
    captions: false
  })
  expect(created.status).toBe(201)
  return (created.body as { events: Array<{ spaceId: string }> }).events[0]!.spaceId
}

const endedEvent = async (base: string, spaceId: string) => {
  const lee = await client(base, "lee")
  const log = await lee.call("GET", `/v1/spaces/${spaceId}/events`)
  const entries = log.body as Array<{ event: { _tag: string } & Record<string, unknown> }>
  return entries.find((e) => e.event._tag === "SpaceEnded")?.event
}

describe("the operator's end", () => {
  const dirs: Array<string> = []
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  it("ends any Space over HTTP with the reason in the log; users and other services are refused", async () => {
    const server = await startTestServer()
    try {
      const spaceId = await createSpace(server.url, "hana")
      const path = `/v1/operator/spaces/${spaceId}/end`
      const body = { reason: "spam reported by 12 listeners" }
      const before = await server.logLength()

      // The host, another user, a captions service: 403 problems, nothing written.
      for (const token of [
        (await client(server.url, "hana")).token,
        (await client(server.url, "olga")).token,
        await serviceToken("transcriber")
      ]) {
        const refused = await request(server.url, "POST", path, { token, body })
        expect(refused.status).toBe(403)
        expect(refused.headers.get("content-type")).toContain("application/problem+json")
        expect((refused.body as { type: string }).type).toMatch(
          /problems\/(service-identity-required|missing-scope)$/
        )
      }
      expect((await request(server.url, "POST", path, { body })).status).toBe(401)
      expect(await server.logLength()).toBe(before)

      const ops = await operatorToken("ops-oncall")
      const noReason = await request(server.url, "POST", path, { token: ops, body: {} })
      expect(noReason.status).toBe(400)
      const unknown = await request(server.url, "POST", "/v1/operator/spaces/nope/end", { token: ops, body })
      expect(unknown.status).toBe(404)
      expect(await server.logLength()).toBe(before)

      const ended = await request(server.url, "POST", path, { token: ops, body })
      expect(ended.status).toBe(200)
      expect((ended.body as { events: Array<unknown> }).events).toEqual([
        expect.objectContaining({
          _tag: "SpaceEnded",
          reason: "operator",
          by: "ops-oncall",
          note: body.reason
        })
      ])
      expect(await endedEvent(server.url, spaceId)).toMatchObject({
        reason: "operator",
        by: "ops-oncall",
        note: body.reason
      })
      // Ended is terminal: the operator's second try is a 409 and writes nothing.
      const again = await request(server.url, "POST", path, { token: ops, body })
      expect(again.status).toBe(409)
    } finally {
      await server.close()
    }
  })

  it("the CLI ends a Space on a running server's log, and the server follows", async () => {
    const server = await startTestServer()
    try {
      const spaceId = await createSpace(server.url, "hana")
      const lee = await client(server.url, "lee")
      expect((await lee.call("POST", `/v1/spaces/${spaceId}/join`)).status).toBe(200)

      const cli = spacesCli(
        join(server.dir, "spaces.sqlite"),
        "end",
        spaceId,
        "--reason",
        "abuse",
        "--operator",
        "ops"
      )
      expect(cli.stderr).not.toContain("failed")
      expect(cli.code).toBe(0)
      expect(cli.stdout).toContain(`ended Space ${spaceId}`)

      // The server's views and its own decisions see the other process's commit.
      const view = await eventually(
        () => lee.call("GET", `/v1/spaces/${spaceId}`),
        (a) => (a.body as { status?: string }).status === "ended",
        10_000
      )
      expect((view.body as { status: string }).status).toBe("ended")
      const late = await lee.call("POST", `/v1/spaces/${spaceId}/leave`)
      expect(late.status).toBe(409)
      expect(await endedEvent(server.url, spaceId)).toMatchObject({ by: "ops", note: "abuse" })
    } finally {
      await server.close()
    }
  })

  it("the CLI ends a Space on a stopped server's log; bad invocations change nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-operator-"))
    dirs.push(dir)
    const dbPath = join(dir, "spaces.sqlite")
    const first = await start(loadConfig(testEnv(dir)))
    const spaceId = await createSpace(first.url, "hana")
    await first.close()

    expect(spacesCli(dbPath, "end", spaceId).code).toBe(2)
    expect(spacesCli(dbPath, "end", "--reason", "x").code).toBe(2)
    const unknown = spacesCli(dbPath, "end", "no-such-space", "--reason", "x")
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("SpaceNotFound")

    const ended = spacesCli(dbPath, "end", spaceId, "--reason", "left running overnight")
    expect(ended.code).toBe(0)
    expect(spacesCli(dbPath, "end", spaceId, "--reason", "twice").code).toBe(1)

    const second = await start(loadConfig(testEnv(dir)))
    try {
      expect(await endedEvent(second.url, spaceId)).toMatchObject({
        reason: "operator",
        by: "cli",
        note: "left running overnight"
      })
    } finally {
      await second.close()
    }
  })
})
