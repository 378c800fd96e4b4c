/**
 * The start-up benchmark's log: about 1,000,000 valid domain events in an SQLite file, written
 * directly through the store's batch append (one transaction per Space), the last 1,000 Spaces
 * still live. Cached under `~/.cache/spaces/bench/startup-<key>`, the key a digest of this
 * generator's version and of the code that decides the files' format (event schemas, the store's
 * and the views' SQLite schemas, the projections), so that a rerun reuses them and a change
 * regenerates them.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import type { EventData } from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { Effect } from "effect"
import { benchEvent, benchUser, spaceLife } from "../../projections/src/testing/benchLog.js"

const GENERATOR_VERSION = 2
export const LIVE_SPACES = 1_000
const T0 = Date.UTC(2026, 0, 1)

const root = new URL("../../..", import.meta.url).pathname

/** Files whose change changes what the cached files must hold. */
const formatSources = (): ReadonlyArray<string> => {
  const under = (dir: string, match: (file: string) => boolean): Array<string> =>
    readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((file) => match(file) && !file.includes(".spec."))
      .map((file) => join(dir, file))
  return [
    ...under("packages/domain/src/space", (f) => f.endsWith("Event.ts")),
    ...under("packages/domain/src/user", (f) => f.endsWith(".ts")),
    ...under("packages/eventstore/src/sqlite", (f) => f.endsWith(".ts")),
    ...under("packages/projections/src", (f) => f.endsWith(".ts") && !f.startsWith("testing")),
    "packages/http/bench/startupLog.ts",
    "packages/projections/src/testing/benchLog.ts"
  ].sort()
}

export const cacheKey = (events: number) => {
  const hash = createHash("sha256").update(`v${GENERATOR_VERSION}:${events}`)
  for (const file of formatSources()) hash.update(file).update(readFileSync(join(root, file)))
  return hash.digest("hex").slice(0, 16)
}

export const cacheDir = (events: number) =>
  join(homedir(), ".cache", "spaces", "bench", `startup-${cacheKey(events)}`)

const event = benchEvent
const u = benchUser
const USERS = 100_000

/** One Space's whole life (or all but its end): a host, 59 listeners, some on stage, some gone. */
const spaceEvents = (i: number, at: number, ends: boolean): Array<EventData> =>
  spaceLife({
    index: i,
    at,
    host: u((i * 37) % USERS),
    listener: (l) => u((i * 37 + l * 1_009) % USERS),
    ends
  })

/** Writes the log into `path`: a follow graph, ended Spaces, then `LIVE_SPACES` live ones. */
const generate = async (path: string, target: number) => {
  const store = makeSqliteEventStore({ path })
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
  let written = 0
  let at = T0
  try {
    // 10,000 users following 10 people each.
    for (let f = 0; f < 10_000; f++) {
      const follows = Array.from({ length: 10 }, (_, k) =>
        event(
          { _tag: "UserFollowed", user: u(f), followee: u((f * 7_919 + k * 104_729 + 1) % USERS), at },
          at
        )
      ).filter((e) => (e.data as { followee: string }).followee !== u(f))
      await run(store.append(`user-u${f}`, follows, "any"))
      written += follows.length
    }
    // Ended Spaces until the live ones to come make the target, then the live ones.
    const live = spaceEvents(0, at, false).length * LIVE_SPACES
    let i = 0
    for (; written + live < target; i++) {
      const events = spaceEvents(i, at, true)
      await run(store.append(`space-s${i}`, events, "no_stream"))
      written += events.length
      if (i % 100 === 0) at += 60_000
    }
    for (const last = i + LIVE_SPACES; i < last; i++) {
      const events = spaceEvents(i, at, false)
      await run(store.append(`space-s${i}`, events, "no_stream"))
      written += events.length
    }
  } finally {
    store.close()
  }
  return written
}

/**
 * The cached log (generated if absent): its directory holds `spaces.sqlite`. The views beside it
 * are the caller's to build (by running the server over it once).
 */
export const startupLog = async (target: number, log: (line: string) => void) => {
  const dir = cacheDir(target)
  const path = join(dir, "spaces.sqlite")
  const count = join(dir, "events.txt")
  if (existsSync(path)) return { dir, path, events: Number(readFileSync(count, "utf8")), generated: false }
  mkdirSync(join(dir, ".."), { recursive: true })
  const building = `${dir}.building-${process.pid}`
  rmSync(building, { recursive: true, force: true })
  mkdirSync(building, { recursive: true })
  const started = performance.now()
  const written = await generate(join(building, "spaces.sqlite"), target)
  log(
    `generated ${written.toLocaleString("en-US")} events in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
  writeFileSync(join(building, "events.txt"), String(written))
  renameSync(building, dir)
  return { dir, path, events: written, generated: true }
}
