// Prints line coverage per package from vitest's json-summary (coverage/coverage-summary.json), so
// the test run reports the figure each package is held to (the domain's 95% threshold is enforced
// by vitest.config.ts; this only reports).
import { existsSync, readFileSync } from "node:fs"

const path = new URL("../coverage/coverage-summary.json", import.meta.url)
if (!existsSync(path)) process.exit(0)
const summary = JSON.parse(readFileSync(path, "utf8"))
const packages = new Map()
for (const [file, { lines }] of Object.entries(summary)) {
  const name = /\/packages\/([^/]+)\/src\//.exec(file)?.[1]
  if (name === undefined) continue
  const total = packages.get(name) ?? { covered: 0, total: 0 }
  total.covered += lines.covered
  total.total += lines.total
  packages.set(name, total)
}
console.log("\nLine coverage by package (in-process code; servers run as child processes are not measured):")
for (const [name, { covered, total }] of [...packages].sort())
  console.log(
    `  ${name.padEnd(12)} ${((100 * covered) / total).toFixed(1).padStart(5)}%  (${covered}/${total} lines)`
  )

const line = new URL("../test-results/summary.txt", import.meta.url)
if (existsSync(line)) process.stdout.write(`\n${readFileSync(line, "utf8")}`)
