/**
 * Notifications benchmark (`npm run bench -- notifications`), each figure beside pure fan-out on
 * write (every audience gets a row per member) measured in the same run, both in SQLite:
 * 1. the write cost (time, rows) of a host with 200,000 followers going live, and of one with ten;
 * 2. the latency (p50, p99) of reading the first page of a follower's notifications: 200 of them
 *    from people with few followers, and the merged streams of five people with many.
 */
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type EventData,
  makeInMemoryEventStore,
  type SpaceEvent,
  type UserEvent,
  type UserId
} from "@spaces/domain"
import { Effect, Stream } from "effect"
import { notificationsProjection, NOTIFICATIONS } from "../src/notifications/notificationsProjection.js"
import { notificationsOf } from "../src/notifications/notificationsQuery.js"
import { applyBatch } from "../src/runner/applyBatch.js"
import { rebuildProjection } from "../src/runner/rebuild.js"
import { makeSqliteStorage } from "../src/store/SqliteStorage.js"
import type { ProjectionStore, Storage, Writes } from "../src/store/Storage.js"
import { median } from "../../../scripts/bench/median.js"

const T0 = Date.UTC(2026, 0, 1)
const dir = mkdtempSync(join(tmpdir(), "spaces-bench-notify-"))
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
const event = (e: SpaceEvent | UserEvent): EventData => ({
  id: randomUUID(),
  type: e._tag,
  data: e,
  metadata: { recordedAt: T0 }
})
const u = (name: string | number) => `u${name}` as UserId
const s = (name: string) => name as never

const FOLLOWERS = 200_000
const celeb = u("celeb")
const ten = u("ten")
const bigAuthors = [1, 2, 3, 4].map((i) => u(`big${i}`))
const smallAuthors = Array.from({ length: 50 }, (_, i) => u(`small${i}`))
const follower = (i: number) => u(1_000_000 + i)

const store = makeInMemoryEventStore()
const append = (stream: string, events: ReadonlyArray<EventData>) => run(store.append(stream, events, "any"))
const follows = async (followee: UserId, count: number) => {
  for (let i = 0; i < count; i += 10_000)
    await append(
      `user-fans-${followee}`,
      Array.from({ length: Math.min(10_000, count - i) }, (_, k) =>
        event({ _tag: "UserFollowed", user: follower(i + k), followee, at: T0 })
      )
    )
}
const create = (spaceId: string, host: UserId, scheduledFor: number | null) =>
  append(`space-${spaceId}`, [
    event({
      _tag: "SpaceCreated",
      spaceId: s(spaceId),
      at: T0,
      host,
      title: `Talk ${spaceId}`,
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false,
      scheduledFor
    })
  ])

// The follow graph: the celebrity's 200,000; four others with 3,000 (over the 2,000 threshold);
// fifty with 500; one host with ten. Then history: scheduled Spaces by all of them.
await follows(celeb, FOLLOWERS)
for (const author of bigAuthors) await follows(author, 3_000)
for (const author of smallAuthors) await follows(author, 500)
await follows(ten, 10)
let n = 0
for (const author of smallAuthors) for (let k = 0; k < 4; k++) await create(`h${n++}`, author, T0 + 3_600_000)
for (const author of bigAuthors) for (let k = 0; k < 10; k++) await create(`h${n++}`, author, T0 + 3_600_000)
for (let k = 0; k < 2; k++) await create(`h${n++}`, celeb, T0 + 3_600_000)
// The Spaces that go live in the measurement, created (now, not scheduled) before it; the first
// one warms up the storage's statements and caches.
await create("warm-up-live", smallAuthors[0]!, null)
const LIVE_RUNS = 5
for (let k = 0; k < LIVE_RUNS; k++) {
  await create(`celeb-live-${k}`, celeb, null)
  await create(`ten-live-${k}`, ten, null)
}

const thresholds = [2_000, Number.POSITIVE_INFINITY] as const
const storages = new Map<number, Storage>()
for (const threshold of thresholds) {
  const storage = makeSqliteStorage({ path: join(dir, `notify-${threshold}.sqlite`) })
  const started = performance.now()
  await run(rebuildProjection(store, storage, notificationsProjection({ fanOutThreshold: threshold })))
  console.log(
    `built the ${threshold === 2_000 ? "hybrid" : "pure fan-out"} read model in ${fmt((performance.now() - started) / 1000, 1)} s`
  )
  storages.set(threshold, storage)
}

const countWrites = (writes: Writes) => {
  let rows = 0
  for (const parts of writes.values()) for (const part of parts.values()) rows += part.size
  return rows
}
const counting = (projectionStore: ProjectionStore) => {
  let rows = 0
  return {
    store: {
      ...projectionStore,
      commit: (w: Writes, from: number, to: number, v: number) => {
        rows += countWrites(w)
        return projectionStore.commit(w, from, to, v)
      }
    },
    rows: () => rows
  }
}

interface Row {
  readonly figure: string
  readonly ours: string
  readonly baseline: string
  readonly ratio: string
}
const rows: Array<Row> = []

// 1. Going live: one event, applied and committed alone.
const goLive = async (spaceId: string, host: UserId) => {
  await append(`space-${spaceId}`, [event({ _tag: "SpaceStarted", spaceId: s(spaceId), at: T0, host })])
  const last = await run(Stream.runCollect(store.readAll(0).pipe(Stream.takeRight(1))))
  const measured = new Map<number, { ms: number; rows: number }>()
  for (const threshold of thresholds) {
    const projection = notificationsProjection({ fanOutThreshold: threshold })
    const counted = counting(storages.get(threshold)!.projection(NOTIFICATIONS))
    const cursor = { position: counted.store.checkpoint()!.position, at: null }
    const t = performance.now()
    const outcome = applyBatch(projection, counted.store, cursor, last)
    const ms = performance.now() - t
    if (outcome.error !== undefined) throw outcome.error
    measured.set(threshold, { ms, rows: counted.rows() })
  }
  return { ours: measured.get(2_000)!, baseline: measured.get(Number.POSITIVE_INFINITY)! }
}
await goLive("warm-up-live", smallAuthors[0]!)
// Each host goes live LIVE_RUNS times (one Space after the other), alternating: the median of each.
const live = {
  celeb: [] as Array<Awaited<ReturnType<typeof goLive>>>,
  ten: [] as Array<Awaited<ReturnType<typeof goLive>>>
}
for (let k = 0; k < LIVE_RUNS; k++) {
  live.celeb.push(await goLive(`celeb-live-${k}`, celeb))
  live.ten.push(await goLive(`ten-live-${k}`, ten))
}
for (const [label, runs] of [
  [`host with 200,000 followers goes live, median of ${LIVE_RUNS}`, live.celeb],
  [`host with 10 followers goes live, median of ${LIVE_RUNS}`, live.ten]
] as const) {
  const ours = { ms: median(runs.map((r) => r.ours.ms)), rows: median(runs.map((r) => r.ours.rows)) }
  const baseline = {
    ms: median(runs.map((r) => r.baseline.ms)),
    rows: median(runs.map((r) => r.baseline.rows))
  }
  rows.push({
    figure: `${label} (ms)`,
    ours: fmt(ours.ms, 2),
    baseline: fmt(baseline.ms, 2),
    ratio: `${(baseline.ms / ours.ms).toFixed(1)}x`
  })
  rows.push({
    figure: "  … rows written",
    ours: fmt(ours.rows),
    baseline: fmt(baseline.rows),
    ratio: `${(baseline.rows / ours.rows).toFixed(0)}x`
  })
}

// 2. Reading: followers of everyone above (the most to merge), first page, many times.
const percentile = (samples: ReadonlyArray<number>, p: number) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}
const readers = Array.from({ length: 200 }, (_, i) => follower(i * 2))
const times = new Map<number, Array<number>>()
for (let round = 0; round < 6; round++)
  for (const threshold of thresholds) {
    const view = storages.get(threshold)!.projection(NOTIFICATIONS).read
    const samples = times.get(threshold) ?? []
    for (const reader of readers) {
      const t = performance.now()
      notificationsOf(view, reader, { limit: 20 })
      samples.push(performance.now() - t)
    }
    // The first round warms up.
    if (round > 0) times.set(threshold, samples)
  }
const unread = notificationsOf(storages.get(2_000)!.projection(NOTIFICATIONS).read, readers[0]!).unread
const same =
  JSON.stringify(notificationsOf(storages.get(2_000)!.projection(NOTIFICATIONS).read, readers[0]!)) ===
  JSON.stringify(
    notificationsOf(storages.get(Number.POSITIVE_INFINITY)!.projection(NOTIFICATIONS).read, readers[0]!)
  )
for (const p of [50, 99]) {
  const ours = percentile(times.get(2_000)!, p)
  const baseline = percentile(times.get(Number.POSITIVE_INFINITY)!, p)
  rows.push({
    figure: `read a follower's first page, ${unread} notifications, p${p} (ms)`,
    ours: fmt(ours, 2),
    baseline: fmt(baseline, 2),
    ratio: `${(baseline / ours).toFixed(2)}x`
  })
}
for (const storage of storages.values()) storage.close()
rmSync(dir, { recursive: true, force: true })

console.log(`\nnotifications (baseline: pure fan-out on write; ratio: how many times better ours is)`)
console.log(`a follower's first page is the same on both: ${same}`)
const header = ["figure", "ours", "baseline", "ratio"]
const table = rows.map((r) => [r.figure, r.ours, r.baseline, r.ratio])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)))
const line = (cells: ReadonlyArray<string>) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
console.log(line(header))
for (const r of table) console.log(line(r))
