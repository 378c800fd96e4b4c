import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { type Answer, request, testEnv, userToken } from "./harness.js"

const root = new URL("../..", import.meta.url).pathname

/** Starts `src/bin/server.ts` as a child process and resolves with its URL (from its "listening" log line). */
const spawnServer = (env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@spaces/source", "--import", "tsx", "packages/http/src/bin/server.ts"],
      { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    let err = ""
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000)
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString()
    })
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      for (const line of out.split("\n")) {
        if (!line.includes('"msg":"listening"')) continue
        clearTimeout(timer)
        resolve({ child, url: (JSON.parse(line) as { url: string }).url })
        return
      }
    })
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err}`)))
  })

interface Acked {
  readonly spaceId: string
  readonly user: string
  readonly kind: "create" | "join"
  readonly position: number
}

describe("crash and restart", () => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-restart-"))
  const children: Array<ChildProcess> = []
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  })

  it("keeps every acknowledged command through a SIGKILL, and the views converge", async () => {
    const env = testEnv(dir, { SPACES_LOG_LEVEL: "info" })
    const first = await spawnServer(env)
    children.push(first.child)
    const acked: Array<Acked> = []
    let killed = false
    const tokens = new Map<string, string>()
    const token = async (user: string) => {
      const t = tokens.get(user) ?? (await userToken(user))
      tokens.set(user, t)
      return t
    }
    const send = async (
      user: string,
      method: string,
      path: string,
      body?: unknown
    ): Promise<Answer | undefined> => {
      try {
        return await request(first.url, method, path, {
          token: await token(user),
          ...(body === undefined ? {} : { body })
        })
      } catch {
        return undefined // connection refused or reset: not acknowledged
      }
    }

    // 8 writers: each hosts Spaces and brings listeners in, until the server dies.
    const writer = async (w: number) => {
      for (let round = 0; !killed; round++) {
        const spaceId = `r-${w}-${round}`
        const host = `rh-${w}-${round}`
        const created = await send(host, "POST", "/v1/spaces", {
          spaceId,
          title: "Crash",
          topics: ["news"],
          speakPolicy: "everyone",
          recording: false,
          captions: false
        })
        if (created?.status !== 201) continue
        acked.push({
          spaceId,
          user: host,
          kind: "create",
          position: (created.body as { position: number }).position
        })
        for (let j = 0; j < 5 && !killed; j++) {
          const user = `rl-${w}-${round}-${j}`
          const joined = await send(user, "POST", `/v1/spaces/${spaceId}/join`)
          if (joined?.status === 200)
            acked.push({
              spaceId,
              user,
              kind: "join",
              position: (joined.body as { position: number }).position
            })
        }
      }
    }
    const writers = Array.from({ length: 8 }, (_, w) => writer(w))
    while (acked.length < 120) await new Promise((r) => setTimeout(r, 10))
    first.child.kill("SIGKILL")
    killed = true
    await Promise.all(writers)
    expect(acked.length).toBeGreaterThanOrEqual(120)

    const second = await spawnServer(env)
    children.push(second.child)
    const reader = await userToken("auditor")
    const spaces = [...new Set(acked.map((a) => a.spaceId))]
    const maxPosition = Math.max(...acked.map((a) => a.position))
    for (const spaceId of spaces) {
      const log = await request(second.url, "GET", `/v1/spaces/${spaceId}/events`, { token: reader })
      expect(log.status).toBe(200)
      const entries = log.body as Array<{ position: number; event: { _tag: string; user?: string } }>
      for (const a of acked.filter((x) => x.spaceId === spaceId)) {
        const entry = entries.find((e) => e.position === a.position)
        expect(entry?.event._tag, `${a.kind} ${a.user}@${a.position}`).toBe(
          a.kind === "create" ? "SpaceStarted" : "ListenerJoined"
        )
      }
      // The room view, rebuilt after the restart, includes every acknowledged participant.
      const view = await request(second.url, "GET", `/v1/spaces/${spaceId}?minPosition=${maxPosition}`, {
        token: reader
      })
      expect(view.status).toBe(200)
      const present = new Set(
        (view.body as { participants: Array<{ user: string }> }).participants.map((p) => p.user)
      )
      for (const a of acked.filter((x) => x.spaceId === spaceId))
        expect(present.has(a.user), a.user).toBe(true)
    }
    second.child.kill("SIGTERM")
    await new Promise((r) => second.child.once("exit", r))
  })
})
