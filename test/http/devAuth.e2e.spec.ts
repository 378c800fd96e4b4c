import { spawn } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { request, startTestServer, type TestServer } from "./harness.js"

/**
 * Development sign-in (`POST /v1/dev/token`): opt-in outside a development run, refused in
 * production whatever NODE_ENV's spelling, and service identities only when asked for separately.
 */
const root = join(fileURLToPath(import.meta.url), "../../..")
const serverScript = join(root, "packages/http/src/bin/server.ts")

/** Runs the server's command line; resolves with its exit code and output once it exits. */
const runServer = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@spaces/source", "--import", "tsx", serverScript, ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env } }
    )
    let output = ""
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      // A server that did start is stopped: the test only wants to know what it said.
      if (output.includes('"listening"')) child.kill("SIGKILL")
    }
    child.stdout.on("data", read)
    child.stderr.on("data", read)
    child.on("exit", (code) => resolve({ code, output }))
  })

describe("development sign-in", () => {
  let t: TestServer | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  it("is not served when NODE_ENV is unset and it was not asked for", async () => {
    t = await startTestServer({ SPACES_DEV_AUTH: "" })
    const answer = await request(t.url, "POST", "/v1/dev/token", { body: { user: "ada" } })
    expect(answer.status).toBe(404)
  })

  it("mints user tokens, but a service identity only with SPACES_DEV_AUTH_SERVICES=true", async () => {
    t = await startTestServer({ SPACES_DEV_AUTH: "true" })
    const user = await request(t.url, "POST", "/v1/dev/token", { body: { user: "ada" } })
    expect(user.status).toBe(200)
    const service = await request(t.url, "POST", "/v1/dev/token", { body: { service: "captioner" } })
    expect(service.status).toBe(403)
    expect(service.body).toMatchObject({
      type: expect.stringMatching(/dev-service-tokens-off$/),
      status: 403
    })
    await t.close()
    t = await startTestServer({ SPACES_DEV_AUTH: "true", SPACES_DEV_AUTH_SERVICES: "true" })
    const allowed = await request(t.url, "POST", "/v1/dev/token", { body: { service: "captioner" } })
    expect(allowed.status).toBe(200)
  })

  it("makes the server refuse to start in production, whatever NODE_ENV's spelling", async () => {
    for (const nodeEnv of ["prod", "Production"]) {
      const run = await runServer({
        NODE_ENV: nodeEnv,
        SPACES_JWT_SECRET: "s".repeat(40),
        SPACES_DEV_AUTH: "true",
        PORT: "0",
        HOST: "127.0.0.1",
        SPACES_MEDIA: "off",
        SPACES_DB_PATH: ":memory:"
      })
      expect(run.code, run.output).toBe(2)
      expect(run.output).toMatch(/SPACES_DEV_AUTH=true is refused in production/)
    }
  })

  it("is on in `npm start`'s development run (NODE_ENV unset), and off when an operator sets NODE_ENV", async () => {
    const base = {
      PORT: "0",
      HOST: "127.0.0.1",
      SPACES_MEDIA: "off",
      SPACES_DB_PATH: ":memory:",
      SPACES_WEB_CLIENT: "false"
    }
    const dev = await runServer(base, ["--default-node-env=development"])
    expect(dev.output).toMatch(/"listening"/)
    expect(dev.output).toMatch(/development sign-in is on/)
    const operator = await runServer({ ...base, NODE_ENV: "staging", SPACES_JWT_SECRET: "s".repeat(40) }, [
      "--default-node-env=development"
    ])
    expect(operator.output).toMatch(/"listening"/)
    expect(operator.output).not.toMatch(/development sign-in is on/)
  })
})
