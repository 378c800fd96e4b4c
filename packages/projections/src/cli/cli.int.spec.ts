import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { seedLog } from "../testing/seed.js"

const root = new URL("../../../..", import.meta.url).pathname

const spaces = (env: Record<string, string>, ...args: Array<string>) => {
  const run = spawnSync(
    process.execPath,
    ["--conditions=@spaces/source", "--import", "tsx", "packages/projections/src/bin/spaces.ts", ...args],
    { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" }
  )
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe("the spaces CLI", () => {
  it("rebuilds, reports status and replays a Space from a SQLite file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-cli-"))
    const env = { SPACES_DB_PATH: join(dir, "spaces.sqlite") }
    const store = makeSqliteEventStore({ path: env.SPACES_DB_PATH })
    await Effect.runPromise(seedLog(store, 600, 5))
    const events = await Effect.runPromise(store.readStream("space-s0"))
    store.close()
    expect(events.length).toBeGreaterThan(0)

    const before = spaces(env, "status")
    expect(before.code).toBe(0)
    expect(before.stdout).toMatch(/feed\s+2\s+0\s+[\d,]+\s+[\d,]+\s+never run/)

    const rebuilt = spaces(env, "rebuild", "all")
    expect(rebuilt.code).toBe(0)
    expect(rebuilt.stdout).toMatch(
      /rebuilt rooms, feed, topics, creator, schedule, notifications up to position/
    )
    expect(rebuilt.stderr).toMatch(/all\s+\[#+\] 100%/)

    const after = spaces(env, "status")
    expect(after.stdout.match(/up to date/g)?.length).toBe(6)

    const one = spaces(env, "rebuild", "feed")
    expect(one.code).toBe(0)
    expect(spaces(env, "rebuild", "nonsense").code).toBe(2)

    const replay = spaces(env, "replay", "s0", "--position", String(events[0]!.position))
    expect(replay.code).toBe(0)
    expect(replay.stdout).toContain(`Space s0 as of position ${events[0]!.position} (revision 0)`)
    expect(replay.stdout).toContain("SpaceCreated")
    const at = spaces(env, "replay", "s0", "--at", new Date(Date.UTC(2030, 0, 1)).toISOString())
    expect(at.stdout).toContain(`(revision ${events.at(-1)!.revision})`)
    expect(spaces(env, "replay", "nope").code).toBe(2)
    expect(spaces(env).code).toBe(2)
  })
})
