import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"

/**
 * The Quick start's `npm start`, as a user runs it: its prestart step bundles the server
 * (`scripts/build-server.mjs`), then node runs the bundle. The bundle must behave as the sources
 * do: ready, the web client found beside the sources, a development run's sign-in.
 */
const root = join(fileURLToPath(import.meta.url), "../../..")
const dir = mkdtempSync(join(tmpdir(), "spaces-npm-start-"))
let child: ChildProcess | undefined

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once("exit", resolve))
    // npm runs the server in a shell of its own: the whole process group is stopped.
    process.kill(-child.pid, "SIGTERM")
    await exited
  }
  rmSync(dir, { recursive: true, force: true })
})

/** Starts `npm start`; resolves with the URL from the server's "listening" line. */
const npmStart = () =>
  new Promise<string>((resolve, reject) => {
    const { NODE_ENV: _unset, ...env } = process.env
    child = spawn("npm", ["start"], {
      cwd: root,
      detached: true,
      env: {
        ...env,
        PORT: "0",
        HOST: "127.0.0.1",
        SPACES_DB_PATH: join(dir, "spaces.sqlite"),
        SPACES_MEDIA: "on"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split("\n").find((l) => l.includes('"msg":"listening"'))
      if (line !== undefined) resolve((JSON.parse(line) as { url: string }).url)
    }
    child.stdout!.on("data", read)
    child.stderr!.on("data", read)
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)))
  })

describe("npm start", () => {
  it("bundles the server, then serves from the bundle: ready with media, the web client, development sign-in", async () => {
    const script = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
        scripts: Record<string, string>
      }
    ).scripts
    expect(script.prestart).toBe("node scripts/build-server.mjs")
    expect(script.start).toMatch(/^node packages\/http\/bundle\/server\.mjs /)

    const url = await npmStart()
    expect(existsSync(join(root, "packages/http/bundle/server.mjs"))).toBe(true)

    let ready: Response | undefined
    for (let i = 0; i < 600 && ready?.status !== 200; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100))
      ready = await fetch(`${url}/readyz`)
    }
    expect(ready?.status).toBe(200)
    // mediasoup (loaded from node_modules, not bundled) finds and starts its workers.
    expect(await ready?.json()).toMatchObject({ status: "ready", media: "available" })

    // The web client lies beside the sources, not the bundle: found through its source location.
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<html/i)

    const token = await fetch(`${url}/v1/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "ada" })
    })
    expect(token.status).toBe(200)
  })
})
