/**
 * Memory under keyed commands (`npm run bench -- keyed`): the server's command path (the domain's
 * handler on the SQLite event store, in this process) runs 1,000,000 commands, each with an
 * idempotency key of its own, as clients retrying safely would send them; the handler keeps recent
 * outcomes per stream so that a retry is answered as the first time. Prints the process's RSS and
 * heap as the commands go, beside the same process before them and after as many commands without
 * keys (the baseline: what keeping the outcomes costs is the difference). The figures must level
 * off: the outcomes kept are bounded per stream and the states cached are bounded in number.
 *
 * The commands run WINDOW at a time, concurrently, as a server's requests would: their appends
 * share group commits, so that 1,000,000 of them finish in minutes (one at a time, each waiting for
 * its own commit, they took over an hour). Concurrent joins of one Space conflict now and then and
 * are decided again by the handler, as in production.
 *
 * SPACES_BENCH_COMMANDS changes the count (default 1,000,000).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { type SpaceCommand, SpaceId, Spaces, spacesOn, UserId } from "@spaces/domain"
import { Effect } from "effect"
import { SqliteEventStore } from "../src/sqlite/SqliteEventStore.js"

const COMMANDS = Number(process.env.SPACES_BENCH_COMMANDS ?? 1_000_000)
const SPACES = 100
const USERS = 20_000
const REPORT_EVERY = COMMANDS / 5
const WINDOW = 50

// A full collection before each reading, so that the heap figures are what is still referenced.
setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
const memory = () => {
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed }
}

/** Each user joins one Space, then moves to the next one and so on: every command writes. */
const command = (i: number): SpaceCommand => {
  const user = i % USERS
  const round = Math.floor(i / USERS)
  return {
    _tag: "JoinSpace",
    spaceId: SpaceId.make(`s${(user + round) % SPACES}`),
    by: UserId.make(`u${user}`)
  }
}

const runCommands = (label: string, keyed: boolean) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    for (let s = 0; s < SPACES; s++)
      yield* spaces.execute({
        _tag: "CreateSpace",
        spaceId: SpaceId.make(`s${s}`),
        by: UserId.make(`host${s}`),
        title: `Room ${s}`,
        topics: ["music"],
        speakPolicy: "everyone",
        recording: false,
        captions: false
      })
    gc()
    const before = memory()
    const lines: Array<string> = []
    const started = performance.now()
    const run = (i: number) =>
      Effect.flatMap(
        Effect.either(spaces.execute(command(i), keyed ? { idempotencyKey: `key-${i}` } : {})),
        (outcome) =>
          outcome._tag === "Left" ? Effect.die(`command ${i} failed: ${outcome.left._tag}`) : Effect.void
      )
    for (let from = 0; from < COMMANDS; from += WINDOW) {
      const to = Math.min(COMMANDS, from + WINDOW)
      yield* Effect.forEach(
        Array.from({ length: to - from }, (_, j) => from + j),
        run,
        { concurrency: "unbounded", discard: true }
      )
      const i = to - 1
      if (Math.floor(to / REPORT_EVERY) > Math.floor(from / REPORT_EVERY)) {
        const now = memory()
        lines.push(
          `  ${label}: after ${(i + 1).toLocaleString("en-US")} commands  RSS ${mib(now.rss)}  heap ${mib(now.heap)}`
        )
        console.log(lines.at(-1))
      }
    }
    gc()
    const after = memory()
    const seconds = (performance.now() - started) / 1000
    return { before, after, seconds }
  })

const inFreshStore = (keyed: boolean) => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-bench-"))
  return Effect.runPromise(
    Effect.scoped(
      runCommands(keyed ? "keyed" : "no keys", keyed).pipe(
        Effect.provide(spacesOn(SqliteEventStore.layer({ path: join(dir, "log.sqlite") })))
      )
    )
  ).finally(() => rmSync(dir, { recursive: true, force: true }))
}

const keyed = await inFreshStore(true)
const unkeyed = await inFreshStore(false)
console.log(
  `\n${COMMANDS.toLocaleString("en-US")} joins over ${SPACES} Spaces and ${USERS.toLocaleString("en-US")} users, SQLite, one process`
)
console.log("| run | commands/s | RSS before | RSS after | heap after (after a GC) |")
console.log("|---|---|---|---|---|")
for (const [name, r] of [
  ["each with its own idempotency key", keyed],
  ["no keys (baseline)", unkeyed]
] as const)
  console.log(
    `| ${name} | ${Math.round(COMMANDS / r.seconds).toLocaleString("en-US")} | ${mib(r.before.rss)} | ${mib(r.after.rss)} | ${mib(r.after.heap)} |`
  )
console.log(
  `keyed / baseline heap after: ${(keyed.after.heap / unkeyed.after.heap).toFixed(2)}×; load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`
)
