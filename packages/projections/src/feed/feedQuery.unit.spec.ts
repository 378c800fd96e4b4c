import type { SpaceId, UserId } from "@spaces/domain"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { liveSummary } from "../room/roomQueries.js"
import { ROOMS, type RoomDoc, SPACE } from "../room/RoomDoc.js"
import { makeMemoryStorage } from "../store/MemoryStorage.js"
import { ReadCache } from "../store/ReadCache.js"
import { DELETED, type ReadView, type Writes } from "../store/Storage.js"
import type { FeedEntry } from "../views.js"
import { FEED, FOLLOWERS, INBOX, inboxId, PULLED, type PulledPresence } from "./feedProjection.js"
import { byFeedRank, feedOf } from "./feedQuery.js"
import { jsonRowsOf } from "../testing/jsonRows.js"

/**
 * The feed query over the feed's and the rooms' rows, written straight (not by the projections):
 * any mix of inbox rows, pulled presences, follows and room documents, changed a few rows at a
 * time between queries. The query through `ReadCache` keeps the inbox's ranked candidates and
 * patches them from each commit's rows; it must answer what ranking every row from scratch does.
 */

const spaces = ["s0", "s1", "s2", "s3", "s4", "s5"] as const
const users = ["u0", "u1", "u2", "u3", "u4"] as const
const viewers = ["v0", "v1"] as const
const T0 = Date.UTC(2026, 0, 1)

type Change =
  | {
      readonly kind: "inbox"
      readonly viewer: string
      readonly spaceId: string
      readonly user: string
      readonly speaking: boolean | null
    }
  | {
      readonly kind: "pulled"
      readonly spaceId: string
      readonly user: string
      readonly speaking: boolean | null
    }
  | { readonly kind: "follow"; readonly viewer: string; readonly user: string; readonly follows: boolean }
  | {
      readonly kind: "room"
      readonly spaceId: string
      readonly live: boolean
      readonly listeners: number
      readonly started: number
    }
type Op =
  | { readonly kind: "commit"; readonly changes: ReadonlyArray<Change> }
  | { readonly kind: "query"; readonly viewer: string; readonly limit: number }

const spaceId = fc.constantFrom(...spaces)
const user = fc.constantFrom(...users)
const viewer = fc.constantFrom(...viewers)
const speaking = fc.option(fc.boolean(), { freq: 3 })
const change: fc.Arbitrary<Change> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("inbox" as const), viewer, spaceId, user, speaking })
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("pulled" as const), spaceId, user, speaking }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("follow" as const), viewer, user, follows: fc.boolean() })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("room" as const),
      spaceId,
      live: fc.boolean(),
      // Few values: ties on listeners and on start times, decided by the next key.
      listeners: fc.integer({ min: 0, max: 3 }),
      started: fc.integer({ min: 0, max: 2 })
    })
  }
)
const op: fc.Arbitrary<Op> = fc.oneof(
  // Several rows at once too: one commit's rows reach the kept candidates together.
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("commit" as const),
      changes: fc.array(change, { minLength: 1, maxLength: 5 })
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("query" as const),
      viewer,
      // The live bar asks with no cut at all.
      limit: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(Number.MAX_SAFE_INTEGER))
    })
  }
)

const room = (id: string, live: boolean, listeners: number, started: number): RoomDoc => ({
  spaceId: id as SpaceId,
  status: live ? "live" : "ended",
  title: `Space ${id}`,
  topics: [],
  host: "h" as UserId,
  speakPolicy: "everyone",
  recording: false,
  recorded: false,
  captions: false,
  scheduledFor: null,
  startedAt: T0 + started,
  endedAt: null,
  endReason: null,
  hostAway: null,
  counts: { cohosts: 0, speakers: 0, listeners },
  hostPresent: true,
  stage: [],
  raisedHands: [],
  speakerInvites: [],
  cohostInvites: [],
  pinnedPost: null,
  recentPosts: [],
  recentCaptions: [],
  reminders: 0,
  seq: 0
})

/** Each projection's part of a commit. */
const writesOf = (changes: ReadonlyArray<Change>) => {
  const byProjection = new Map<string, Writes>([
    [FEED, new Map()],
    [ROOMS, new Map()]
  ])
  const put = (projection: string, table: string, part: string, id: string, value: unknown) => {
    const writes = byProjection.get(projection)!
    const parts = writes.get(table) ?? new Map<string, Map<string, unknown>>()
    writes.set(table, parts)
    const rows = parts.get(part) ?? new Map<string, unknown>()
    parts.set(part, rows)
    rows.set(id, value)
  }
  for (const c of changes)
    switch (c.kind) {
      case "inbox":
        put(FEED, INBOX, c.viewer, inboxId(c.spaceId, c.user), c.speaking ?? DELETED)
        break
      case "pulled":
        put(
          FEED,
          PULLED,
          "",
          inboxId(c.spaceId, c.user),
          c.speaking === null
            ? DELETED
            : ({
                user: c.user as UserId,
                spaceId: c.spaceId as SpaceId,
                speaking: c.speaking
              } satisfies PulledPresence)
        )
        break
      case "follow":
        put(FEED, FOLLOWERS, c.user, c.viewer, c.follows ? 1 : DELETED)
        break
      case "room":
        put(ROOMS, SPACE, c.spaceId, "", room(c.spaceId, c.live, c.listeners, c.started))
        break
    }
  return byProjection
}

/**
 * The feed from scratch by brute force: per Space, the viewer's inbox rows, with the pulled
 * presences of people they follow over them; live Spaces only, in `byFeedRank`'s order.
 */
const expected = (feed: ReadView, rooms: ReadView, viewer: string, limit: number): Array<FeedEntry> => {
  const bySpace = new Map<string, Map<string, boolean>>()
  const add = (spaceId: string, user: string, speaking: boolean) => {
    const people = bySpace.get(spaceId) ?? new Map<string, boolean>()
    people.set(user, speaking)
    bySpace.set(spaceId, people)
  }
  for (const [id, speaking] of feed.scan<boolean>(INBOX, viewer)) {
    const [spaceId, user] = id.split(" ") as [string, string]
    add(spaceId, user, speaking)
  }
  for (const [, p] of feed.scan<PulledPresence>(PULLED, ""))
    if (feed.get(FOLLOWERS, p.user, viewer) !== undefined) add(p.spaceId, p.user, p.speaking)
  const entries: Array<FeedEntry> = []
  for (const [spaceId, people] of bySpace) {
    const doc = rooms.get<RoomDoc>(SPACE, spaceId, "")
    if (doc?.status !== "live") continue
    const followed = [...people].sort(
      ([a, x], [b, y]) => Number(y) - Number(x) || (a < b ? -1 : a > b ? 1 : 0)
    )
    entries.push({
      space: liveSummary(doc),
      followedParticipants: followed.map(([u]) => u as UserId),
      followsHostOrSpeaker: followed.some(([, s]) => s)
    })
  }
  return entries.sort(byFeedRank).slice(0, limit)
}

describe("the feed query", () => {
  it("answers as ranking every row from scratch, its kept candidates patched commit by commit", () =>
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 10, maxLength: 80, size: "max" }),
        // Small bounds too: the cache forgets partitions (and what it derived) between queries.
        fc.oneof(fc.constant(1_000_000), fc.integer({ min: 200, max: 3_000 })),
        (ops, maxWeight) => {
          const storage = makeMemoryStorage()
          const stores = new Map([FEED, ROOMS].map((name) => [name, storage.projection(name)] as const))
          for (const store of stores.values()) store.reset(1)
          let position = 0
          const cache = new ReadCache(undefined, maxWeight)
          const feed = cache.view(FEED, jsonRowsOf(stores.get(FEED)!.read))
          const rooms = cache.view(ROOMS, jsonRowsOf(stores.get(ROOMS)!.read))
          for (const o of ops) {
            if (o.kind === "commit") {
              for (const [name, writes] of writesOf(o.changes)) {
                expect(stores.get(name)!.commit(writes, position, position + 1, 1)).toBe(true)
                cache.written(name, writes)
              }
              position++
              continue
            }
            const plainFeed = stores.get(FEED)!.read
            const plainRooms = stores.get(ROOMS)!.read
            const want = expected(plainFeed, plainRooms, o.viewer, o.limit)
            // Through the cache (kept candidates) and over the plain rows (built afresh).
            expect(feedOf(feed, rooms, o.viewer as UserId, o.limit)).toStrictEqual(want)
            expect(feedOf(plainFeed, plainRooms, o.viewer as UserId, o.limit)).toStrictEqual(want)
          }
        }
      ),
      { numRuns: 300 }
    ))
})
