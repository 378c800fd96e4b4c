/**
 * Bundles the server (packages/http/src/bin/server.ts and every workspace module it imports, with
 * `effect`) into one JavaScript file, packages/http/bundle/server.mjs, so that `npm start` runs
 * plain JavaScript: no TypeScript compiled on the fly and one module to load instead of several
 * hundred. Packages with native parts or files of their own (better-sqlite3, mediasoup, express,
 * pg, ...) stay external and load from node_modules as usual.
 *
 *   node scripts/build-server.mjs                   the server, only when a source is newer (prestart)
 *   node scripts/build-server.mjs <entry.ts> <out.mjs>  any entry, always (the start-up benchmark)
 *
 * Plain JavaScript so that the check before each `npm start` costs no TypeScript loader. The
 * bundle is rebuilt when any of its inputs (listed in `<out>.inputs.json`) or this script is newer
 * than it, and written to a temporary name then renamed, so a server starting meanwhile never
 * reads half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

const self = fileURLToPath(import.meta.url)
export const root = join(dirname(self), "..")
export const serverEntry = join(root, "packages/http/src/bin/server.ts")
export const serverBundle = join(root, "packages/http/bundle/server.mjs")

/** Loaded from node_modules at run time: native addons, packages that read files beside them, CJS. */
const external = [
  "better-sqlite3",
  "mediasoup",
  "express",
  "jose",
  "pg",
  "ioredis",
  "@eventstore/db-client",
  "web-push",
  "opusscript"
]

const inputsOf = (outfile) => `${outfile}.inputs.json`

/**
 * What npm rewrites on every install: files unpacked from the registry keep the tarball's old
 * dates, so a dependency upgraded by `npm ci` shows only here.
 */
const installRecords = ["package-lock.json", "node_modules/.package-lock.json"]
  .map((file) => join(root, file))
  .filter(existsSync)

/**
 * True when the bundle is missing, or this script, an install, or any file it was built from is
 * newer (or gone).
 */
export const isStale = (outfile) => {
  if (!existsSync(outfile) || !existsSync(inputsOf(outfile))) return true
  const built = statSync(outfile).mtimeMs
  const inputs = JSON.parse(readFileSync(inputsOf(outfile), "utf8"))
  return [self, ...installRecords, ...inputs.map((input) => join(root, input))].some(
    (path) => !existsSync(path) || statSync(path).mtimeMs > built
  )
}

/**
 * A module that locates files beside itself (`new URL("./x", import.meta.url)`: the web client,
 * the pocketsphinx helper's C source) keeps finding them from inside the bundle: its
 * `import.meta.url` becomes its source file's URL, relative to where the bundle lies.
 */
const sourceLocations = (outdir) => ({
  name: "source-locations",
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, (args) => {
      const contents = readFileSync(args.path, "utf8")
      if (!contents.includes("import.meta.url")) return undefined
      const path = relative(outdir, args.path).split(sep).join("/")
      const url = `new URL(${JSON.stringify(path)}, import.meta.url).href`
      return { contents: contents.replaceAll("import.meta.url", url), loader: "ts" }
    })
  }
})

export const bundle = async (entry, outfile) => {
  const outdir = dirname(outfile)
  // Loaded only to build: the check before each start needs no esbuild.
  const { build } = await import("esbuild")
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Workspace packages from their sources, as `--conditions=@spaces/source` loads them.
    conditions: ["@spaces/source"],
    external,
    // No `keepNames`: it wraps every function expression, effect's included, in a call that sets
    // its name each time it is created (6% of a join's CPU in a profile). Nothing reads function
    // names; the source map beside the bundle maps stack traces back to the sources.
    keepNames: false,
    sourcemap: "linked",
    metafile: true,
    write: false,
    plugins: [sourceLocations(outdir)],
    logLevel: "warning"
  })
  mkdirSync(outdir, { recursive: true })
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`
    writeFileSync(temporary, file.contents)
    renameSync(temporary, file.path)
  }
  const inputs = Object.keys(result.metafile.inputs).map((input) =>
    relative(root, resolve(root, input)).split(sep).join("/")
  )
  writeFileSync(inputsOf(outfile), `${JSON.stringify(inputs)}\n`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  const [entry, outfile] = process.argv.slice(2)
  if (entry !== undefined && outfile !== undefined) await bundle(resolve(entry), resolve(outfile))
  else if (isStale(serverBundle)) await bundle(serverEntry, serverBundle)
}
