/**
 * The top functions of a V8 CPU profile (`--cpu-prof`, e.g. `BENCH_CPU_PROF=<dir> npm run bench --
 * http.bench`), by self and by inclusive time, over the busiest stretch of the run (the
 * benchmark's load, not the set-up before it):
 *
 *   node --import tsx scripts/bench/cpuProfileTop.ts <file.cpuprofile> [seconds=10] [rows=25]
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const [file, seconds = "10", rows = "25"] = process.argv.slice(2)
if (file === undefined) {
  console.error("usage: cpuProfileTop.ts <file.cpuprofile> [seconds] [rows]")
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const isIdle = (id: number) => byId.get(id)!.callFrame.functionName === "(idle)"
const nameOf = (id: number) => {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const where = url.replace(/.*node_modules\//, "").replace(/.*\/packages\//, "")
  return `${functionName || "(anonymous)"} ${where}${where === "" ? "" : `:${lineNumber + 1}`}`
}

// Sample times (µs from the start), then the window of `seconds` with the most busy samples.
let clock = 0
const at = profile.timeDeltas.map((d) => (clock += d))
const windowUs = Number(seconds) * 1e6
let best = { from: 0, busy: -1 }
for (let i = 0, j = 0, busy = 0; i < at.length; i++) {
  if (!isIdle(profile.samples[i]!)) busy += profile.timeDeltas[i]!
  while (at[i]! - at[j]! > windowUs) {
    if (!isIdle(profile.samples[j]!)) busy -= profile.timeDeltas[j]!
    j++
  }
  if (busy > best.busy) best = { from: at[j]!, busy }
}

const self = new Map<string, number>()
const inclusive = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  if (at[i]! < best.from || at[i]! > best.from + windowUs || isIdle(id)) return
  const dt = profile.timeDeltas[i]!
  total += dt
  self.set(nameOf(id), (self.get(nameOf(id)) ?? 0) + dt)
  const seen = new Set<string>()
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const name = nameOf(n)
    if (seen.has(name)) continue
    seen.add(name)
    inclusive.set(name, (inclusive.get(name) ?? 0) + dt)
  }
})

const print = (title: string, times: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [name, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, Number(rows)))
    console.log(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`
    )
}
console.log(
  `busiest ${seconds} s from ${(best.from / 1e6).toFixed(1)} s: ${(total / 1000).toFixed(0)} ms of CPU samples`
)
print("self time", self)
print("inclusive time", inclusive)
