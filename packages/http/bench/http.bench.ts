/**
 * HTTP port benchmark: requests/s and p99 latency of a command route (join, spread over users and
 * Spaces so that each request moves a user, never a no-op) and a query route (the live bar), each
 * beside a bare Express route with the same body parsing, measured in the same run: five pairs of
 * 4-second runs per route, alternating (`BENCH_ROUNDS`, `BENCH_DURATION`), the median pair's ratio.
 *
 *   npm run bench -- http
 *
 * The Spaces server (as `npm start` runs it, from its bundle) and the bare server run as child processes (SQLite file in a temp directory,
 * media off, rate limit out of the way); autocannon drives them from this process.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import autocannon from "autocannon"
import { loadConfig, makeTokens } from "../src/index.js"
import { UserId } from "@spaces/domain"
import { cpuSeconds, rssMiB } from "../../../scripts/bench/procStats.js"
import { median } from "../../../scripts/bench/median.js"

const root = new URL("../../..", import.meta.url).pathname
/** Seconds per run; `ROUNDS` pairs of runs (ours, bare) per route, after a warm-up run each. */
const DURATION = Number(process.env.BENCH_DURATION ?? 4)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const WARM_UP = 2
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const SPACES = 50
const USERS = 2_000
const FEED_USERS = 200
const SECRET = "bench-secret-bench-secret-bench-secret-0123"

// `BENCH_CPU_PROF=<dir>`: the Spaces server writes a V8 CPU profile there when it exits.
const CPU_PROF = process.env.BENCH_CPU_PROF
const ONLY = process.env.BENCH_ONLY
// `BENCH_SERVER_FLAGS="--flag …"`: node flags for the Spaces server (to try a V8 setting).
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? "").split(" ").filter((f) => f !== "")

/**
 * Starts a server whose stdout (the request log) goes to a file, as a deployment's would: a pipe to
 * this process, busy driving autocannon, would block the server's log writes (stdout to a pipe is
 * synchronous on Linux) and measure our own reading instead of the server.
 */
const spawnServer = (script: string, env: Record<string, string>, log: string, profile = false) =>
  new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    const flags = profile
      ? [...SERVER_FLAGS, ...(CPU_PROF !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${CPU_PROF}`] : [])]
      : []
    const out = openSync(log, "w")
    const child = spawn(
      process.execPath,
      script.endsWith(".mjs")
        ? [...flags, script]
        : [...flags, "--conditions=@spaces/source", "--import", "tsx", script],
      { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", out, "inherit"] }
    )
    closeSync(out)
    const poll = setInterval(() => {
      const line = readFileSync(log, "utf8")
        .split("\n")
        .find((l) => l.includes('"msg":"listening"'))
      if (line === undefined) return
      clearInterval(poll)
      resolve({ child, url: (JSON.parse(line) as { url: string }).url })
    }, 50)
    child.once("exit", (code) => {
      clearInterval(poll)
      reject(new Error(`${script} exited with ${code}`))
    })
  })

/** The next request of a run (autocannon asks for each). */
type Route = () => { method: string; path: string; headers: Record<string, string> }

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-bench-"))
  const env = {
    PORT: "0",
    HOST: "127.0.0.1",
    SPACES_DB_PATH: join(dir, "bench.sqlite"),
    SPACES_MEDIA: "off",
    SPACES_WEB_CLIENT: "false",
    SPACES_LOG_LEVEL: "warn",
    SPACES_JWT_SECRET: SECRET,
    SPACES_RATE_LIMIT_PER_SECOND: "1000000",
    SPACES_RATE_LIMIT_BURST: "1000000"
  }
  // At info, as a deployment runs: the listening line, and a line per request.
  // As `npm start` runs it: the bundle its prestart step builds (function names intact in a profile).
  const built = spawnSync(process.execPath, ["scripts/build-server.mjs"], { cwd: root, stdio: "inherit" })
  if (built.status !== 0) throw new Error("scripts/build-server.mjs failed")
  const spaces = await spawnServer(
    "packages/http/bundle/server.mjs",
    { ...env, SPACES_LOG_LEVEL: "info" },
    join(dir, "spaces.log"),
    true
  )
  const bare = await spawnServer("packages/http/bench/bareServer.ts", {}, join(dir, "bare.log"))
  const tokens = makeTokens(loadConfig({ SPACES_JWT_SECRET: SECRET }).auth)
  const token = (user: string) => tokens.issue({ kind: "user", userId: UserId.make(user) })
  const call = async (user: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(spaces.url + path, {
      method,
      headers: { authorization: `Bearer ${await token(user)}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  }

  // Setup: live Spaces, listeners, and feed users who follow some hosts.
  for (let s = 0; s < SPACES; s++)
    await call(`host-${s}`, "POST", "/v1/spaces", {
      spaceId: `bench-${s}`,
      title: `Bench ${s}`,
      topics: ["technology"],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    })
  for (let f = 0; f < FEED_USERS; f++)
    for (let k = 0; k < 5; k++) await call(`fan-${f}`, "PUT", `/v1/me/following/host-${(f * 7 + k) % SPACES}`)
  const userTokens = await Promise.all(Array.from({ length: USERS }, (_, u) => token(`user-${u}`)))
  const fanTokens = await Promise.all(Array.from({ length: FEED_USERS }, (_, f) => token(`fan-${f}`)))
  for (let u = 0; u < USERS; u += 4) await call(`user-${u}`, "POST", `/v1/spaces/bench-${u % SPACES}/join`)

  const rssAfterSetup = rssMiB(spaces.child.pid!)
  let n = 0
  const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(Math.random() * xs.length)]!
  const run = (url: string, request: Route, duration: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration,
      requests: [{ setupRequest: (req) => ({ ...req, ...request() }) }]
    })

  const joinRoute = () => {
    // Each join moves a user to another Space: a leave and a join, on two Space streams and the user's.
    const u = n++ % USERS
    const s = (u + Math.floor(n / USERS) + 1) % SPACES
    return {
      method: "POST",
      path: `/v1/spaces/bench-${s}/join`,
      headers: { authorization: `Bearer ${userTokens[u]}`, "content-type": "application/json" }
    }
  }
  const feed = () => ({
    method: "GET",
    path: "/v1/feed",
    headers: { authorization: `Bearer ${pick(fanTokens)}` }
  })
  const bareJoin = () => ({
    method: "POST",
    path: "/bare/join",
    headers: { "content-type": "application/json", "x-user": `user-${n++ % USERS}` }
  })
  const bareFeed = () => ({ method: "GET", path: "/bare/feed", headers: {} })

  const rows: Array<Array<string>> = []
  const rounds: Array<string> = []
  /** One run of `route` against `server`: its result and the server's CPU seconds over it. */
  const timed = async (server: { child: ChildProcess; url: string }, route: Route, seconds: number) => {
    const cpu0 = cpuSeconds(server.child.pid!)
    const result = await run(server.url, route, seconds)
    return { result, cpu: cpuSeconds(server.child.pid!) - cpu0 }
  }
  type Timed = Awaited<ReturnType<typeof timed>>
  const cpuPerRequest = ({ result, cpu }: Timed) => (cpu * 1e6) / Math.max(1, result.requests.total)
  /**
   * Ours and the bare route in `ROUNDS` pairs of short runs, back to back, each pair's order the
   * other way round from the last (after a warm-up run each): the machine's speed drifts over a
   * minute by more than the code's difference, and both sides of a pair see the same drift. The
   * ratio is the median pair's; the other figures are each side's median run.
   */
  const measure = async (name: string, target: string, spacesRoute: Route, bareRoute: Route) => {
    await timed(spaces, spacesRoute, WARM_UP)
    await timed(bare, bareRoute, WARM_UP)
    const pairs: Array<{ ours: Timed; bare: Timed }> = []
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        const ours = await timed(spaces, spacesRoute, DURATION)
        pairs.push({ ours, bare: await timed(bare, bareRoute, DURATION) })
      } else {
        const theirs = await timed(bare, bareRoute, DURATION)
        pairs.push({ ours: await timed(spaces, spacesRoute, DURATION), bare: theirs })
      }
    }
    const ratios = pairs.map((p) => p.ours.result.requests.average / p.bare.result.requests.average)
    const p99s = pairs.map((p) => p.ours.result.latency.p99 / Math.max(1, p.bare.result.latency.p99))
    const failed = pairs.reduce((sum, p) => sum + p.ours.result.non2xx + p.ours.result.errors, 0)
    const of = (side: "ours" | "bare", f: (t: Timed) => number) => median(pairs.map((p) => f(p[side])))
    const percent = (x: number) => `${(x * 100).toFixed(1)}%`
    rows.push([
      name,
      `${of("ours", (t) => t.result.requests.average).toFixed(0)}${failed > 0 ? ` (${failed} failed)` : ""}`,
      `${of("ours", (t) => t.result.latency.p99)} ms`,
      `${of("bare", (t) => t.result.requests.average).toFixed(0)}`,
      `${of("bare", (t) => t.result.latency.p99)} ms`,
      `${percent(median(ratios))} (${percent(Math.min(...ratios))}–${percent(Math.max(...ratios))})`,
      `${median(p99s).toFixed(1)}×`,
      `${of("ours", cpuPerRequest).toFixed(0)} µs`,
      `${of("bare", cpuPerRequest).toFixed(0)} µs`,
      target
    ])
    rounds.push(
      `${name}: ${pairs
        .map(
          (p, r) =>
            `${p.ours.result.requests.average.toFixed(0)}/${p.bare.result.requests.average.toFixed(0)} (${percent(ratios[r]!)})`
        )
        .join(", ")}`
    )
  }
  // `BENCH_ONLY=join|feed` runs one route (for a profile of it alone).
  if (ONLY !== "feed")
    await measure("POST /v1/spaces/:id/join (command)", "≥ 50%, p99 < 2×", joinRoute, bareJoin)
  if (ONLY !== "join") await measure("GET /v1/feed (query)", "≥ 75%", feed, bareFeed)

  const header = [
    "route",
    "Spaces req/s",
    "Spaces p99",
    "bare Express req/s",
    "bare p99",
    "Spaces / bare (median pair, range)",
    "p99 / bare's",
    "server CPU / request",
    "bare's CPU / request",
    "target"
  ]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  console.log(
    `\n${CONNECTIONS} connections, ${ROUNDS} pairs of ${DURATION}s runs per route (ours, bare), ${SPACES} Spaces, ${USERS} users, SQLite (synchronous=normal)\n`
  )
  console.log(line(header))
  console.log(line(widths.map((w) => "-".repeat(w))))
  for (const row of rows) console.log(line(row))
  console.log(`\nreq/s of each pair, ours/bare (ratio):\n${rounds.join("\n")}`)
  console.log(
    `\nSpaces server RSS: ${rssAfterSetup.toFixed(0)} MiB after setup, ${rssMiB(spaces.child.pid!).toFixed(0)} MiB after the runs; bare Express: ${rssMiB(bare.child.pid!).toFixed(0)} MiB`
  )
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`
  )

  spaces.child.kill("SIGTERM")
  bare.child.kill("SIGTERM")
  await Promise.all([spaces, bare].map(({ child }) => new Promise((r) => child.once("exit", r))))
  rmSync(dir, { recursive: true, force: true })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
