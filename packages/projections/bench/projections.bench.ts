import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type EventData,
  type EventStoreShape,
  evolve,
  initialSpaceState,
  makeInMemoryEventStore,
  type RecordedEvent,
  type SpaceState,
  SpaceEvent,
  decodeRecorded
} from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { Effect, Either, Stream } from "effect"
import { FEED, feedProjection, INBOX } from "../src/feed/feedProjection.js"
import { feedOf } from "../src/feed/feedQuery.js"
import { MEMBER, type MemberDoc, ROOMS } from "../src/room/RoomDoc.js"
import { roomDoc } from "../src/room/roomQueries.js"
import { projections } from "../src/ReadModelsLive.js"
import { applyBatch } from "../src/runner/applyBatch.js"
import { rebuildProjection, rebuildProjections } from "../src/runner/rebuild.js"
import { makeSqliteStorage } from "../src/store/SqliteStorage.js"
import { benchEvent, benchUser, spaceLife } from "../src/testing/benchLog.js"
import { type ProjectionStore, queryOf, type Writes } from "../src/store/Storage.js"

const T0 = Date.UTC(2026, 0, 1)
const dir = mkdtempSync(join(tmpdir(), "spaces-bench-"))
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

const event = benchEvent
type Id = string & { readonly __brand?: never }
const u = benchUser
const s = (i: number) => `s${i}` as never

/** Spaces in waves of 500 live at once: each gets a host and listeners (disjoint per wave), some on stage, then ends. */
const generateLog = async (store: EventStoreShape, target: number) => {
  let written = 0
  let at = T0
  const users = 100_000
  // The follow graph: 20 follows for each of the first 20,000 users (one batch per user stream).
  for (let f = 0; f < 20_000; f++) {
    const follows = Array.from({ length: 20 }, (_, k) =>
      event({ _tag: "UserFollowed", user: u(f), followee: u((f * 7919 + k * 104_729) % users), at }, at)
    ).filter((e) => (e.data as { followee: Id }).followee !== u(f))
    await run(store.append(`user-u${f}`, follows, "any"))
    written += follows.length
  }
  let space = 0
  const wave = 500
  while (written < target) {
    const base = space
    const pending: Array<Array<EventData>> = []
    for (let k = 0; k < wave; k++) {
      const host = u((base * 37 + k * 200) % users)
      const events = spaceLife({
        index: base + k,
        at,
        host,
        listener: (l) => u((base * 37 + k * 200 + l) % users),
        ends: true
      })
      pending.push(events)
    }
    space += wave
    // Interleave the wave's Spaces in the log, a few events of each at a time.
    for (let offset = 0; pending.some((p) => offset < p.length); offset += 8) {
      for (let k = 0; k < pending.length; k++) {
        const batch = pending[k]!.slice(offset, offset + 8)
        if (batch.length === 0) continue
        await run(store.append(`space-s${base + k}`, batch, "any"))
        written += batch.length
      }
      at += 1_000
    }
  }
  return written
}

const countWrites = (writes: Writes) => {
  let n = 0
  for (const parts of writes.values()) for (const rows of parts.values()) n += rows.size
  return n
}
const counting = (store: ProjectionStore) => {
  let rows = 0
  return {
    store: {
      ...store,
      commit: (w: Writes, from: number, to: number, v: number) => {
        rows += countWrites(w)
        return store.commit(w, from, to, v)
      }
    },
    rows: () => rows
  }
}
const percentile = (samples: Array<number>, p: number) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

interface Row {
  readonly figure: string
  readonly ours: string
  readonly baseline: string
  readonly baselineName: string
  readonly ratio: string
}
const rows: Array<Row> = []

// The feed query runs first: after the 1M-event rebuild in the same process, the collector
// working off that rebuild's garbage lands in its samples (p99 2.4 ms there, 0.3 ms after a
// 20,000-event rebuild); the query's own allocations are measured all the same.
// 1. Feed query latency: 10,000 live Spaces, a viewer following 1,000 people (50 of them with
// more followers than the fan-out threshold, so both paths of the query run).
{
  const store = makeInMemoryEventStore()
  const viewer = u(999_999)
  const live = 10_000
  const followees = Array.from({ length: 1_000 }, (_, i) => u(i * 97))
  // Whether a presence is pushed or pulled is decided at entry: the follows go first in the log.
  const celebs = followees.slice(0, 50)
  for (const [c, celeb] of celebs.entries())
    await run(
      store.append(
        `user-fans${c}`,
        Array.from({ length: 2_100 }, (_, f) =>
          event({ _tag: "UserFollowed", user: u(500_000 + c * 2_100 + f), followee: celeb, at: T0 }, T0)
        ),
        "any"
      )
    )
  await run(
    store.append(
      `user-${viewer}`,
      followees.map((f) => event({ _tag: "UserFollowed", user: viewer, followee: f, at: T0 }, T0)),
      "any"
    )
  )
  for (let k = 0; k < live; k++) {
    const events: Array<EventData> = [
      event(
        {
          _tag: "SpaceCreated",
          spaceId: s(k),
          at: T0,
          host: u(k * 10),
          title: `Space ${k}`,
          topics: [],
          speakPolicy: "everyone",
          recording: false,
          captions: false,
          scheduledFor: null
        },
        T0
      ),
      event({ _tag: "SpaceStarted", spaceId: s(k), at: T0, host: u(k * 10) }, T0)
    ]
    for (let l = 1; l < 10; l++)
      events.push(event({ _tag: "ListenerJoined", spaceId: s(k), at: T0, user: u(k * 10 + l) }, T0))
    await run(store.append(`space-s${k}`, events, "no_stream"))
  }

  const storage = makeSqliteStorage({ path: join(dir, "feed.sqlite") })
  await run(rebuildProjections(store, storage, projections()))
  const feed = storage.projection(FEED).read
  const rooms = storage.projection(ROOMS).read

  const naive = () => {
    const mine = new Set<string>(followees)
    const out: Array<{ spaceId: string; followed: Array<string>; listeners: number }> = []
    for (let k = 0; k < live; k++) {
      const doc = roomDoc(rooms, s(k))
      if (doc?.status !== "live") continue
      const followed = rooms
        .scan<MemberDoc>(MEMBER, s(k))
        .filter(([user]) => mine.has(user))
        .map(([user]) => user)
      if (followed.length > 0) out.push({ spaceId: doc.spaceId, followed, listeners: doc.counts.listeners })
    }
    return out.sort((a, b) => b.followed.length - a.followed.length || b.listeners - a.listeners).slice(0, 50)
  }
  // As the server queries: through the storage's query cache (see `ReadCache`).
  const ours = () => queryOf(storage, (view) => feedOf(view(FEED), view(ROOMS), viewer, 50))
  // The same query right after a commit flipped one of the viewer's inbox rows, as when a followed
  // person takes or leaves the stage: a different row each time, flipped back by the next commit
  // (so the feed keeps its shape), its Space moving between the ranking's groups each time. The
  // kept candidates take in the changed row; room documents stay cached.
  const feedStore = storage.projection(FEED)
  const inboxIds = feed.scan<boolean>(INBOX, viewer).map(([id]) => id)
  let touches = 0
  const touchInbox = () => {
    const { position, version } = feedStore.checkpoint()!
    const id = inboxIds[(Math.floor(touches++ / 2) * 37) % inboxIds.length]!
    const speaking = feed.get<boolean>(INBOX, viewer, id) !== true
    const writes = new Map([[INBOX, new Map([[viewer as string, new Map([[id, speaking]])]])]])
    if (!feedStore.commit(writes, position, position, version)) throw new Error("inbox commit refused")
  }
  const afterChange = (n: number) => {
    const times: Array<number> = []
    for (let i = 0; i < n + 5; i++) {
      touchInbox()
      const t = performance.now()
      ours()
      if (i >= 5) times.push(performance.now() - t)
    }
    return times
  }
  const sample = (f: () => unknown, n: number) => {
    for (let i = 0; i < 5; i++) f()
    const times: Array<number> = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      f()
      times.push(performance.now() - t)
    }
    return times
  }
  const entries = ours().length
  // 2,000 samples each: a p99 of 300 was the 3rd slowest, decided by whether one collection fell in it.
  const oursTimes = sample(ours, 2_000)
  const changedTimes = afterChange(2_000)
  const naiveTimes = sample(naive, 30)
  storage.close()
  for (const [label, times] of [
    ["", oursTimes],
    [" after an inbox change", changedTimes]
  ] as const)
    for (const p of [50, 99])
      rows.push({
        figure: `feed query p${p}${label}, follows 1,000, 10,000 live, ${entries} entries shown (ms)`,
        ours: fmt(percentile(times, p), 2),
        baseline: fmt(percentile(naiveTimes, p), 2),
        baselineName: "scan every live Space's participants",
        ratio: (percentile(naiveTimes, p) / percentile(times, p)).toFixed(1)
      })
}

// 2. Rebuild throughput.
{
  const target = Number(process.env.SPACES_BENCH_EVENTS ?? 1_000_000)
  const store = makeSqliteEventStore({ path: join(dir, "log.sqlite") })
  let started = performance.now()
  const total = await generateLog(store, target)
  console.log(`generated ${fmt(total)} events in ${fmt((performance.now() - started) / 1000, 1)} s`)

  started = performance.now()
  const decode = decodeRecorded(SpaceEvent)
  const states = new Map<string, SpaceState>()
  await run(
    Stream.runForEach(store.readAll(0), (r: RecordedEvent) =>
      Effect.sync(() => {
        if (!r.streamId.startsWith("space-")) return
        const e = Either.getOrThrow(decode(r))
        states.set(r.streamId, evolve(states.get(r.streamId) ?? initialSpaceState, e))
      })
    )
  )
  const foldMs = performance.now() - started

  const storage = makeSqliteStorage({ path: join(dir, "views.sqlite") })
  started = performance.now()
  // As `spaces rebuild all` does: one pass over the log for every projection.
  const all = projections()
  await run(rebuildProjections(store, storage, all))
  const rebuildMs = performance.now() - started
  console.log(`  rebuilt all ${all.length} in one pass in ${fmt(rebuildMs / 1000, 1)} s`)
  storage.close()
  store.close()
  rows.push({
    figure: `rebuild of all ${all.length} projections, ${fmt(total)} events (events/s)`,
    ours: fmt((total * 1000) / rebuildMs),
    baseline: fmt((total * 1000) / foldMs),
    baselineName: "read + decode + evolve-fold in memory, no views",
    ratio: (foldMs / rebuildMs).toFixed(2)
  })
}

// 3. A join by a participant with 200,000 followers.
{
  const celeb = u(7)
  const store = makeInMemoryEventStore()
  const followers = Array.from({ length: 200_000 }, (_, f) =>
    event({ _tag: "UserFollowed", user: u(1_000_000 + f), followee: celeb, at: T0 }, T0)
  )
  for (let i = 0; i < followers.length; i += 10_000)
    await run(store.append("user-fans", followers.slice(i, i + 10_000), "any"))
  await run(
    store.append(
      "space-big",
      [
        event(
          {
            _tag: "SpaceCreated",
            spaceId: s(1),
            at: T0,
            host: u(1),
            title: "Big",
            topics: [],
            speakPolicy: "everyone",
            recording: false,
            captions: false,
            scheduledFor: null
          },
          T0
        ),
        event({ _tag: "SpaceStarted", spaceId: s(1), at: T0, host: u(1) }, T0)
      ],
      "no_stream"
    )
  )
  // Both read models are rebuilt up to the join, then the join alone is applied and measured.
  const storages = new Map(
    [2_000, Number.POSITIVE_INFINITY].map(
      (threshold) => [threshold, makeSqliteStorage({ path: join(dir, `feed-${threshold}.sqlite`) })] as const
    )
  )
  for (const [threshold, storage] of storages) {
    const projection = feedProjection({ fanOutThreshold: threshold })
    await run(rebuildProjection(store, storage, projection))
  }
  await run(
    store.append("space-big", [event({ _tag: "ListenerJoined", spaceId: s(1), at: T0, user: celeb }, T0)], 1)
  )
  const joined = await run(Stream.runCollect(store.readAll(0).pipe(Stream.takeRight(1))))

  const measure = (threshold: number) => {
    const storage = storages.get(threshold)!
    const projection = feedProjection({ fanOutThreshold: threshold })
    const counted = counting(storage.projection(projection.name))
    const cursor = { position: counted.store.checkpoint()!.position, at: null }
    const t = performance.now()
    const outcome = applyBatch(projection, counted.store, cursor, joined)
    const ms = performance.now() - t
    storage.close()
    if (outcome.error !== undefined) throw outcome.error
    return { ms, rows: counted.rows() }
  }
  const ours = measure(2_000)
  const baseline = measure(Number.POSITIVE_INFINITY)
  rows.push({
    figure: "join by a participant with 200,000 followers (ms)",
    ours: fmt(ours.ms, 2),
    baseline: fmt(baseline.ms, 2),
    baselineName: "pure fan-out on write",
    ratio: (baseline.ms / ours.ms).toFixed(0)
  })
  rows.push({
    figure: "  … rows written",
    ours: fmt(ours.rows),
    baseline: fmt(baseline.rows),
    baselineName: "pure fan-out on write",
    ratio: (baseline.rows / ours.rows).toFixed(0)
  })
}

rmSync(dir, { recursive: true, force: true })
console.log("\nprojections (ratio: how many times better ours is)")
const header = ["figure", "ours", "baseline", "ratio", "baseline is"]
const table = rows.map((r) => [r.figure, r.ours, r.baseline, `${r.ratio}x`, r.baselineName])
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)))
const line = (cells: ReadonlyArray<string>) =>
  cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
console.log(line(header))
for (const r of table) console.log(line(r))
