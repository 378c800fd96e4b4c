/**
 * Builds the web client (packages/http/web) into packages/http/web/dist: one bundled script and
 * one stylesheet with content-hashed names (so the server can cache them for a year) and an
 * index.html that points at them (served uncached). Each file is written to a temporary name and
 * renamed, so a server starting while another process builds never reads half a file.
 *
 *   node --import tsx scripts/build-web.ts
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { basename, dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
export const webDir = join(root, "packages/http/web")
export const distDir = join(webDir, "dist")

const writeAtomically = (path: string, contents: Uint8Array | string) => {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, contents)
  renameSync(temporary, path)
}

export const buildWeb = async (): Promise<ReadonlyArray<string>> => {
  const result = await build({
    entryPoints: [join(webDir, "src/main.ts"), join(webDir, "styles.css")],
    bundle: true,
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    minify: true,
    sourcemap: "linked",
    entryNames: "[name]-[hash]",
    outdir: distDir,
    // Workspace modules from their sources (the web client imports only dependency-free ones).
    conditions: ["@spaces/source"],
    write: false,
    metafile: true,
    logLevel: "warning"
  })
  mkdirSync(distDir, { recursive: true })
  const names = new Map<string, string>()
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents)
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint !== undefined) names.set(basename(meta.entryPoint), basename(output))
  }
  const script = names.get("main.ts")
  const styles = names.get("styles.css")
  if (script === undefined || styles === undefined) throw new Error("esbuild did not emit the entry points")
  const html = readFileSync(join(webDir, "index.html"), "utf8")
    .replace("/styles.css", `/${styles}`)
    .replace("/src/main.ts", `/${script}`)
  // The service worker keeps a fixed name (/sw.js, its scope is the site): served uncached.
  const worker = await build({
    entryPoints: [join(webDir, "src/sw.ts")],
    bundle: true,
    format: "iife",
    target: ["chrome110", "firefox110", "safari16"],
    minify: true,
    write: false,
    logLevel: "warning"
  })
  for (const file of worker.outputFiles) writeAtomically(join(distDir, "sw.js"), file.contents)
  // Written last: its presence (and mtime) says the build is complete.
  writeAtomically(join(distDir, "index.html"), html)
  return [
    ...result.outputFiles.map((f) => relative(root, f.path)),
    relative(root, join(distDir, "sw.js")),
    relative(root, join(distDir, "index.html"))
  ]
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildWeb()
  console.log(`web client built: ${files.filter((f) => !f.endsWith(".map")).join(", ")}`)
}
