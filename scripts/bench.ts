/**
 * Runs the benchmarks: every `packages/<name>/bench/*.bench.ts`, each in its own process so that
 * one benchmark's heap and worker threads don't skew the next. `npm run bench -- eventstore`
 * runs only the benchmarks whose path contains "eventstore".
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join } from "node:path"

const root = new URL("..", import.meta.url).pathname
const filters = process.argv.slice(2)
const benches = readdirSync(join(root, "packages"))
  .flatMap((pkg) => {
    const dir = join(root, "packages", pkg, "bench")
    try {
      return readdirSync(dir)
        .filter((file) => file.endsWith(".bench.ts"))
        .map((file) => join(dir, file))
    } catch {
      return []
    }
  })
  // Matched against the path inside the repository: the checkout's own directory name must not match.
  .filter(
    (path) => filters.length === 0 || filters.some((filter) => path.slice(root.length).includes(filter))
  )

let failed = 0
for (const path of benches) {
  console.log(`\n▶ ${path.slice(root.length)}`)
  const run = spawnSync(process.execPath, ["--conditions=@spaces/source", "--import", "tsx", path], {
    stdio: "inherit",
    cwd: root
  })
  if (run.status !== 0) failed++
}
if (failed > 0) {
  console.error(`${failed} benchmark(s) failed`)
  process.exit(1)
}
