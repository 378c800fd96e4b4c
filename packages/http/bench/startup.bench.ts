/**
 * Start-up benchmark (`npm run bench -- startup`): time from process start to the first 200 from
 * `/readyz`, with a 1,000,000-event SQLite log whose projections are caught up and 1,000 live
 * Spaces whose rooms the media plane reopens; beside it, in the same run, the time until those
 * rooms are open, and the server's RSS at both moments. The server runs as `npm start` runs it:
 * plain node on the bundle `scripts/build-server.mjs` makes (built before the clock starts, as
 * `npm start`'s prestart step does). Baseline: node on a bundle built the same way of the same
 * store opened on the same file and an Express `/readyz` asking it the same question, nothing else.
 *
 * The log is generated once through the store's batch append and cached under
 * `~/.cache/spaces/bench` (see `startupLog.ts`); the views beside it are built once by running the
 * server over it until it is ready. Each measured run starts on a fresh copy of both files.
 * `SPACES_BENCH_STARTUP_EVENTS` changes the size of the log, `SPACES_BENCH_ROUNDS` the rounds (3).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { rssMiB } from "../../../scripts/bench/procStats.js"
import { LIVE_SPACES, startupLog } from "./startupLog.js"
import { median } from "../../../scripts/bench/median.js"

const root = new URL("../../..", import.meta.url).pathname
const EVENTS = Number(process.env.SPACES_BENCH_STARTUP_EVENTS ?? 1_000_000)
const ROUNDS = Number(process.env.SPACES_BENCH_ROUNDS ?? 3)
const SECRET = "bench-secret-bench-secret-bench-secret-0123"

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const serverEnv = (dbPath: string, media: "on" | "off"): Record<string, string> => ({
  // The live Spaces that record write beside the copy of the log, not into the checkout.
  SPACES_RECORDINGS_DIR: join(dirname(dbPath), "recordings"),
  PORT: "0",
  HOST: "127.0.0.1",
  NODE_ENV: "production",
  SPACES_DB_PATH: dbPath,
  SPACES_MEDIA: media,
  SPACES_WEB_CLIENT: "false",
  SPACES_LOG_LEVEL: "info",
  SPACES_JWT_SECRET: SECRET,
  // Nobody reconnects during the benchmark: no disconnect may write to the log meanwhile.
  SPACES_DISCONNECT_GRACE_MS: "86400000",
  SPACES_HOST_GRACE_SECONDS: "86400"
})

interface Started {
  readonly child: ChildProcess
  readonly url: string
  readonly readyMs: number
  readonly ready: unknown
  readonly rssAtReady: number
  /** Resolves with the time from start at which `line` appeared on stdout, and the RSS then. */
  readonly lineSeen: (needle: string) => Promise<{ readonly ms: number; readonly rss: number }>
}

/** Spawns `script`, then polls `/readyz` from the moment it listens until it answers 200. */
const startTimed = (script: string, env: Record<string, string>) =>
  new Promise<Started>((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [script], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"]
    })
    const seen = new Map<string, { ms: number; rss: number }>()
    const waiting = new Map<string, (at: { ms: number; rss: number }) => void>()
    let out = ""
    let polling = false
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const lines = out.split("\n")
      out = lines.pop() ?? ""
      for (const line of lines) {
        for (const [needle, done] of waiting)
          if (line.includes(needle)) {
            const at = { ms: performance.now() - t0, rss: rssMiB(child.pid!) }
            seen.set(needle, at)
            waiting.delete(needle)
            done(at)
          }
        if (!polling && line.includes('"msg":"listening"')) {
          polling = true
          void poll((JSON.parse(line) as { url: string }).url)
        }
      }
    })
    const lineSeen = (needle: string) =>
      new Promise<{ ms: number; rss: number }>((done) => {
        const at = seen.get(needle)
        if (at !== undefined) done(at)
        else waiting.set(needle, done)
      })
    // Registered before the server can print it.
    const reopened = lineSeen("media.rooms_reopened")
    const poll = async (url: string) => {
      for (;;) {
        const response = await fetch(`${url}/readyz`).catch(() => undefined)
        if (response?.status === 200) {
          const readyMs = performance.now() - t0
          const ready: unknown = await response.json()
          resolve({
            child,
            url,
            readyMs,
            ready,
            rssAtReady: rssMiB(child.pid!),
            lineSeen: (needle) => (needle === "media.rooms_reopened" ? reopened : lineSeen(needle))
          })
          return
        }
        await response?.text()
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)))
  })

/**
 * The three programs, bundled as `npm start` bundles the server (`scripts/build-server.mjs`), so
 * that all three load alike: plain node on one JavaScript file.
 */
const bundled = {
  server: join(root, "packages/http/bundle/server.mjs"),
  baseline: join(root, "packages/http/bundle/bench/startupBaseline.mjs"),
  modules: join(root, "packages/http/bundle/bench/main.mjs")
}
const bundle = (...args: ReadonlyArray<string>) => {
  const run = spawnSync(process.execPath, ["scripts/build-server.mjs", ...args], {
    cwd: root,
    stdio: "inherit"
  })
  if (run.status !== 0) throw new Error(`bundling failed: ${args.join(" ")}`)
}
const bundleAll = () => {
  bundle()
  bundle("packages/http/bench/startupBaseline.ts", bundled.baseline)
  bundle("packages/http/src/main.ts", bundled.modules)
}

/** Node loading the server's modules and exiting: how much of a start is module loading. */
const importOnlyMs = () => {
  const t0 = performance.now()
  const run = spawnSync(process.execPath, ["-e", `await import(${JSON.stringify(bundled.modules)})`], {
    cwd: root,
    stdio: "inherit"
  })
  if (run.status !== 0) throw new Error("importing the server's modules failed")
  return performance.now() - t0
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.removeAllListeners("exit")
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

const notCaughtUp = (ready: unknown) =>
  (
    (ready as { runners?: ReadonlyArray<{ name: string; lagEvents: number; state: string }> }).runners ?? []
  ).filter((r) => r.lagEvents > 0 || r.state !== "live")

const main = async () => {
  bundleAll()
  const log = await startupLog(EVENTS, (line) => console.log(`  ${line}`))
  const views = join(log.dir, "spaces.views.sqlite")
  const viewsReady = join(log.dir, "views.ready")
  if (!existsSync(viewsReady)) {
    // The views, caught up once by the server itself (as an operator's first start would).
    rmSync(views, { force: true })
    const started = performance.now()
    const prep = await startTimed(bundled.server, {
      ...serverEnv(log.path, "off"),
      SPACES_READY_MAX_LAG: "0"
    })
    let lagging = notCaughtUp(prep.ready)
    for (let i = 0; lagging.length > 0 && i < 600; i++) {
      await new Promise((r) => setTimeout(r, 500))
      lagging = notCaughtUp(await (await fetch(`${prep.url}/readyz`)).json())
    }
    await stop(prep.child)
    if (lagging.length > 0) throw new Error(`the views did not catch up: ${JSON.stringify(lagging)}`)
    writeFileSync(viewsReady, new Date().toISOString())
    console.log(`  built the views in ${fmt((performance.now() - started) / 1000, 1)} s`)
  }
  const sizes = `${fmt(statSync(log.path).size / 2 ** 20)} MiB log, ${fmt(statSync(views).size / 2 ** 20)} MiB views`
  console.log(
    `  ${fmt(log.events)}-event log with ${fmt(LIVE_SPACES)} live Spaces (${sizes}), ${ROUNDS} rounds`
  )

  const ours: Array<{ ready: number; reopened: number; rssReady: number; rssReopened: number }> = []
  const baseline: Array<{ ready: number; rss: number }> = []
  const imports: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), "spaces-startup-"))
    try {
      const dbPath = join(dir, "spaces.sqlite")
      copyFileSync(log.path, dbPath)
      copyFileSync(views, join(dir, "spaces.views.sqlite"))

      imports.push(importOnlyMs())
      const bare = await startTimed(bundled.baseline, { SPACES_DB_PATH: dbPath })
      baseline.push({ ready: bare.readyMs, rss: bare.rssAtReady })
      await stop(bare.child)

      const server = await startTimed(bundled.server, serverEnv(dbPath, "on"))
      const reopened = await server.lineSeen("media.rooms_reopened")
      const lagging = notCaughtUp(server.ready)
      if (lagging.length > 0) console.log(`  warning: ready with runners behind: ${JSON.stringify(lagging)}`)
      ours.push({
        ready: server.readyMs,
        reopened: reopened.ms,
        rssReady: server.rssAtReady,
        rssReopened: reopened.rss
      })
      await stop(server.child)
      console.log(
        `  round ${round + 1}: ready in ${fmt(server.readyMs)} ms, ${fmt(LIVE_SPACES)} rooms open at ${fmt(reopened.ms)} ms (baseline ready in ${fmt(bare.readyMs)} ms)`
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  const base = median(baseline.map((b) => b.ready))
  const ready = median(ours.map((o) => o.ready))
  const reopened = median(ours.map((o) => o.reopened))
  console.log("")
  console.log("| figure (median of rounds) | ours | baseline | ratio |")
  console.log("|---|---|---|---|")
  console.log(
    `| process start → first 200 from \`/readyz\` | ${fmt(ready)} ms | ${fmt(base)} ms (node + store + listen) | ${(ready / base).toFixed(2)}× |`
  )
  console.log(
    `| process start → ${fmt(LIVE_SPACES)} live rooms reopened in the media plane | ${fmt(reopened)} ms | ${fmt(base)} ms | ${(reopened / base).toFixed(2)}× |`
  )
  console.log(
    `| server RSS at ready / with the rooms open | ${fmt(median(ours.map((o) => o.rssReady)))} / ${fmt(median(ours.map((o) => o.rssReopened)))} MiB | ${fmt(median(baseline.map((b) => b.rss)))} MiB | – |`
  )
  console.log(
    `| of which node loading the server's modules (then exiting) | ${fmt(median(imports))} ms | ${fmt(base)} ms | ${(median(imports) / base).toFixed(2)}× |`
  )
  console.log(
    `target: < 3,000 ms to ready with the rooms open: ${Math.max(ready, reopened) < 3_000 ? "met" : "missed"}`
  )
}

await main()
