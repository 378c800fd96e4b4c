// The npm registry these machines reach serves only this platform's builds of packages that ship
// native binaries per platform (biome, rollup, esbuild: other platforms answer 404), so `npm install`
// writes a lockfile without their entries, and `npm ci` then refuses it as out of sync. This adds
// an entry for each missing optional dependency (version only, marked optional): `npm ci` accepts
// the lockfile and skips those packages, as it would on any platform they don't fit.
import { readFileSync, writeFileSync } from "node:fs"

const path = new URL("../package-lock.json", import.meta.url)
const lock = JSON.parse(readFileSync(path, "utf8"))
const packages = lock.packages
let added = 0
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`
    if (packages[key] !== undefined) continue
    packages[key] = { version, optional: true, ...(entry.dev ? { dev: true } : {}) }
    added++
  }
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)))
  )
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
  console.log(
    `package-lock.json: declared ${added} optional platform package(s) this registry does not serve`
  )
}
