/**
 * Serves the web client (packages/http/web/dist): index.html at `/`, never cached, so a new
 * build is picked up at once; the content-hashed script and stylesheet cached for a year.
 *
 * In a source checkout the client is built on first use when dist is missing or older than its
 * sources (scripts/build-web.ts, a second or so); a deployed package ships a built dist.
 */
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import express, { type Router } from "express"

const here = fileURLToPath(new URL(".", import.meta.url))
/** Both src/routes and dist/routes sit two levels below the package. */
const packageDir = join(here, "..", "..")
const defaultWebDir = join(packageDir, "web")
const repoRoot = join(packageDir, "..", "..")
const buildScript = join(repoRoot, "scripts", "build-web.ts")

const newestSource = (webDir: string): number => {
  const sources = [join(webDir, "index.html"), join(webDir, "styles.css")]
  const srcDir = join(webDir, "src")
  if (existsSync(srcDir)) for (const name of readdirSync(srcDir)) sources.push(join(srcDir, name))
  return Math.max(...sources.filter(existsSync).map((path) => statSync(path).mtimeMs))
}

/** Builds the client when its sources are here and dist is missing or stale; true if dist is usable. */
export const ensureWebClientBuilt = (webDir: string = defaultWebDir): boolean => {
  const index = join(webDir, "dist", "index.html")
  const hasSources = existsSync(join(webDir, "src")) && existsSync(buildScript)
  const stale = !existsSync(index) || (hasSources && statSync(index).mtimeMs < newestSource(webDir))
  if (stale && hasSources) {
    try {
      // From the repository root, where `tsx` and `esbuild` resolve whatever the server's cwd.
      execFileSync(process.execPath, ["--import", "tsx", buildScript], {
        cwd: repoRoot,
        stdio: "ignore",
        timeout: 60_000
      })
    } catch (error) {
      console.warn(`web client: build failed (${error instanceof Error ? error.message : String(error)})`)
    }
  }
  return existsSync(index)
}

export interface WebClientOptions {
  /** The client's directory (default: this package's `web`). */
  readonly webDir?: string
  /** Build on start when stale (default true; a deployment with a built dist may turn it off). */
  readonly build?: boolean
}

export const webClient = (options: WebClientOptions = {}): Router => {
  const webDir = options.webDir ?? defaultWebDir
  const distDir = join(webDir, "dist")
  const ready =
    options.build === false ? existsSync(join(distDir, "index.html")) : ensureWebClientBuilt(webDir)
  const router = express.Router()
  router.get(["/", "/index.html"], (_request, response) => {
    if (!ready) {
      response.status(503).type("text/plain").send("The web client is not built: run `npm run build:web`.")
      return
    }
    response.set("cache-control", "no-cache")
    response.sendFile(join(distDir, "index.html"))
  })
  // The service worker: a fixed name, so never cached (a new build must reach the browser).
  router.get("/sw.js", (_request, response, next) => {
    if (!ready) return next()
    response.set("cache-control", "no-cache")
    response.sendFile(join(distDir, "sw.js"))
  })
  router.use(
    express.static(distDir, {
      index: false,
      fallthrough: true,
      // Set outright: the API's middleware has already said `no-store`, which serve-static would keep.
      setHeaders: (response) => response.setHeader("cache-control", "public, max-age=31536000, immutable")
    })
  )
  return router
}
