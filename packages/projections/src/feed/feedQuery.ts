import type { UserId } from "@spaces/domain"
import { byListeners, liveSummary, roomDoc } from "../room/roomQueries.js"
import type { RoomDoc } from "../room/RoomDoc.js"
import { type Derivation, derivedScan, type ReadView } from "../store/Storage.js"
import type { FeedEntry, LiveSpaceSummary } from "../views.js"
import { FOLLOWERS, INBOX, PULLED, type PulledPresence } from "./feedProjection.js"

export const DEFAULT_FEED_LIMIT = 50

/** SPEC §2's order: followed host or speakers first, then more followed people, then more listeners. */
export const byFeedRank = (a: FeedEntry, b: FeedEntry) =>
  Number(b.followsHostOrSpeaker) - Number(a.followsHostOrSpeaker) ||
  b.followedParticipants.length - a.followedParticipants.length ||
  byListeners(a.space, b.space)

/**
 * One Space the viewer's follows are in, ranked as far as the feed's own rows can tell. Never
 * changed once made: a change of the Space's rows makes a new one.
 */
interface Candidate {
  readonly spaceId: string
  readonly users: ReadonlyArray<string>
  readonly speaking: ReadonlyArray<boolean>
  readonly onStage: boolean
  /** `users`, speakers first, then by id: the entry's `followedParticipants`. */
  readonly followed: ReadonlyArray<UserId>
  /** `byFeedRank`'s first two keys as one number, larger first: on stage, then how many followed. */
  readonly rank: number
}

/** Above any count of followed people in one Space. */
const ON_STAGE = 2 ** 32

const candidate = (
  spaceId: string,
  users: ReadonlyArray<string>,
  speaking: ReadonlyArray<boolean>
): Candidate => {
  // Most Spaces hold one followed person: nothing to order.
  if (users.length === 1) {
    const onStage = speaking[0] === true
    return {
      spaceId,
      users,
      speaking,
      onStage,
      followed: users as Array<UserId>,
      rank: (onStage ? ON_STAGE : 0) + 1
    }
  }
  const order = users.map((_, i) => i)
  order.sort((a, b) => {
    const x = users[a] as string
    const y = users[b] as string
    return Number(speaking[b]) - Number(speaking[a]) || (x < y ? -1 : x > y ? 1 : 0)
  })
  const onStage = speaking.includes(true)
  return {
    spaceId,
    users,
    speaking,
    onStage,
    followed: order.map((i) => users[i] as UserId),
    rank: (onStage ? ON_STAGE : 0) + users.length
  }
}

/** Presences grouped by Space, in the order each Space first appears; a repeated user's last word wins. */
class Grouping {
  readonly bySpace = new Map<string, { users: Array<string>; speaking: Array<boolean> }>()
  add(spaceId: string, user: string, speaking: boolean) {
    const group = this.bySpace.get(spaceId)
    if (group === undefined) {
      this.bySpace.set(spaceId, { users: [user], speaking: [speaking] })
      return
    }
    const at = group.users.indexOf(user)
    if (at >= 0) group.speaking[at] = speaking
    else {
      group.users.push(user)
      group.speaking.push(speaking)
    }
  }
}

/**
 * Candidates grouped by rank: `feedOf` reads the room documents of one group at a time, best
 * first, until the page is full. A Space's candidate is replaced in place, so a change of a few
 * rows moves a few candidates between groups instead of ranking every Space again.
 */
class Ranking {
  readonly bySpace = new Map<string, Candidate>()
  /** rank → its candidates, in no order (a group is sorted by listeners once its documents are read). */
  readonly groups = new Map<number, Array<Candidate>>()
  /** The ranks of `groups`, largest first. */
  readonly ranks: Array<number> = []

  put(c: Candidate) {
    this.delete(c.spaceId)
    this.bySpace.set(c.spaceId, c)
    const group = this.groups.get(c.rank)
    if (group !== undefined) {
      group.push(c)
      return
    }
    this.groups.set(c.rank, [c])
    let at = 0
    while (at < this.ranks.length && this.ranks[at]! > c.rank) at++
    this.ranks.splice(at, 0, c.rank)
  }

  delete(spaceId: string) {
    const old = this.bySpace.get(spaceId)
    if (old === undefined) return
    this.bySpace.delete(spaceId)
    const group = this.groups.get(old.rank)!
    // Order within a group does not matter: the last one takes the leaver's place.
    const last = group.pop()!
    if (last !== old) group[group.indexOf(old)] = last
    if (group.length === 0) {
      this.groups.delete(old.rank)
      this.ranks.splice(this.ranks.indexOf(old.rank), 1)
    }
  }
}

/** The viewer's inbox rows as ranked candidates. */
class Inbox extends Ranking {
  /** `user`'s inbox row for `spaceId` is now `speaking` (undefined: gone). */
  set(spaceId: string, user: string, speaking: boolean | undefined) {
    const old = this.bySpace.get(spaceId)
    const users = old === undefined ? [] : old.users.slice()
    const speakers = old === undefined ? [] : old.speaking.slice()
    const at = users.indexOf(user)
    if (speaking === undefined) {
      if (at < 0) return
      users.splice(at, 1)
      speakers.splice(at, 1)
    } else if (at >= 0) speakers[at] = speaking
    else {
      users.push(user)
      speakers.push(speaking)
    }
    if (users.length === 0) this.delete(spaceId)
    else this.put(candidate(spaceId, users, speakers))
  }
}

/** An inbox row's id is `inboxId(spaceId, user)`. */
const split = (id: string) => {
  const space = id.indexOf(" ")
  return [id.slice(0, space), id.slice(space + 1)] as const
}

/**
 * The inbox's candidates, kept by a store that keeps rows (see `ReadView.derive`): made once from
 * every row, then brought up to date from the rows each commit wrote (a followed person moving
 * changes one row), so a query after a change regroups the Spaces that changed, not all of them.
 */
const inboxCandidates: Derivation<boolean, Inbox> = {
  build: (rows) => {
    const grouping = new Grouping()
    for (const [id, speaking] of rows) {
      const [spaceId, user] = split(id)
      grouping.add(spaceId, user, speaking)
    }
    const inbox = new Inbox()
    for (const [spaceId, { users, speaking }] of grouping.bySpace)
      inbox.put(candidate(spaceId, users, speaking))
    return inbox
  },
  update: (inbox, changed) => {
    for (const [id, speaking] of changed) {
      const [spaceId, user] = split(id)
      inbox.set(spaceId, user, speaking)
    }
    return inbox
  }
}

/** A room document's live summary, made once per document (documents are never changed in place). */
const summaries = new WeakMap<RoomDoc, LiveSpaceSummary>()
const summaryOf = (doc: RoomDoc): LiveSpaceSummary => {
  let summary = summaries.get(doc)
  if (summary === undefined) {
    summary = liveSummary(doc)
    summaries.set(doc, summary)
  }
  return summary
}

/**
 * What a viewer's last query merged: over which pulled list, which of its presences the viewer
 * follows (by index), and which inbox candidates of the merged Spaces (by the Spaces' order in
 * `spaces.bySpace`), so that the next query reuses it while they stay the same.
 */
interface Merged {
  readonly pulled: ReadonlyArray<readonly [string, PulledPresence]>
  readonly follows: ReadonlyArray<boolean>
  readonly spaceIds: ReadonlyArray<string>
  readonly basis: ReadonlyArray<Candidate | undefined>
  readonly spaces: Ranking
}
/** Keyed by the viewer's `Inbox` (one per viewer), forgotten with it. */
const mergedOf = new WeakMap<Inbox, Merged>()

/** Whether `last` still holds over `pulled` and `inbox` (without allocating: it runs on every query). */
const stillMerged = (
  feed: ReadView,
  viewer: UserId,
  inbox: Inbox,
  pulled: ReadonlyArray<readonly [string, PulledPresence]>,
  last: Merged | undefined
): last is Merged => {
  if (last === undefined || last.pulled !== pulled) return false
  for (let i = 0; i < pulled.length; i++)
    if ((feed.get(FOLLOWERS, pulled[i]![1].user, viewer) !== undefined) !== last.follows[i]) return false
  for (let i = 0; i < last.spaceIds.length; i++)
    if (inbox.bySpace.get(last.spaceIds[i]!) !== last.basis[i]) return false
  return true
}

/**
 * The Spaces that pulled presences of people the viewer follows are in, as candidates: what the
 * inbox knows of the Space with the pulled presences over it (they replace the inbox's candidate
 * for the Space). Undefined when the viewer follows none of them.
 */
const withPulled = (feed: ReadView, viewer: UserId, inbox: Inbox): Ranking | undefined => {
  const pulled = feed.scan<PulledPresence>(PULLED, "")
  if (pulled.length === 0) return undefined
  const last = mergedOf.get(inbox)
  if (stillMerged(feed, viewer, inbox, pulled, last))
    return last.spaceIds.length === 0 ? undefined : last.spaces
  const follows = pulled.map(([, presence]) => feed.get(FOLLOWERS, presence.user, viewer) !== undefined)
  const grouping = new Grouping()
  pulled.forEach(([, presence], i) => {
    if (!follows[i]) return
    if (!grouping.bySpace.has(presence.spaceId)) {
      const known = inbox.bySpace.get(presence.spaceId)
      if (known !== undefined)
        grouping.bySpace.set(presence.spaceId, { users: [...known.users], speaking: [...known.speaking] })
    }
    grouping.add(presence.spaceId, presence.user, presence.speaking)
  })
  const spaces = new Ranking()
  for (const [spaceId, { users, speaking }] of grouping.bySpace)
    spaces.put(candidate(spaceId, users, speaking))
  const spaceIds = [...spaces.bySpace.keys()]
  const basis = spaceIds.map((spaceId) => inbox.bySpace.get(spaceId))
  mergedOf.set(inbox, { pulled, follows, spaceIds, basis, spaces })
  return spaceIds.length === 0 ? undefined : spaces
}

// The best live candidates of the group being ranked, best first by `byListeners`: at most as
// many as the page has room for, with their listener counts and start times beside them (compared
// as plain doubles: a comparator over the summaries boxed a number per comparison). Kept between
// queries (emptied after each group) so that a query allocates little more than the page's entries:
// a query's garbage is what makes the collector pause inside one. Queries are synchronous: one
// uses them at a time.
const topCandidates: Array<Candidate | undefined> = []
const topSummaries: Array<LiveSpaceSummary | undefined> = []
let topListeners = new Float64Array(64)
let topStarted = new Float64Array(64)
let topSize = 0

/** Puts `c` among the group's best `room`, if it is. */
const consider = (c: Candidate, summary: LiveSpaceSummary, room: number) => {
  const listeners = summary.listenerCount
  const started = summary.startedAt
  const spaceId = c.spaceId
  // The first of the kept ones that `c` comes before, in `byListeners`' order (distinct Spaces
  // never tie: it ends with the id): more listeners, then newer, then the smaller id.
  let lo = 0
  let hi = topSize
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const l = topListeners[mid]!
    const s = topStarted[mid]!
    if (l !== listeners ? l > listeners : s !== started ? s > started : topCandidates[mid]!.spaceId < spaceId)
      lo = mid + 1
    else hi = mid
  }
  if (lo >= room) return
  // Grown by doubling as entries come, never to `room`: the live bar asks for every Space (no cut).
  if (topSize < room && topSize === topListeners.length) {
    const size = 2 * topListeners.length
    const listenersBefore = topListeners
    const startedBefore = topStarted
    topListeners = new Float64Array(size)
    topStarted = new Float64Array(size)
    topListeners.set(listenersBefore)
    topStarted.set(startedBefore)
  }
  // Full: the last one drops out.
  let k = topSize === room ? room - 1 : topSize++
  for (; k > lo; k--) {
    topCandidates[k] = topCandidates[k - 1]
    topSummaries[k] = topSummaries[k - 1]
    topListeners[k] = topListeners[k - 1]!
    topStarted[k] = topStarted[k - 1]!
  }
  topCandidates[lo] = c
  topSummaries[lo] = summary
  topListeners[lo] = listeners
  topStarted[lo] = started
}

/** Considers `group`'s live candidates, but for the Spaces `except` holds. */
const gather = (
  rooms: ReadView,
  group: ReadonlyArray<Candidate>,
  except: Ranking | undefined,
  room: number
) => {
  for (let i = 0; i < group.length; i++) {
    const c = group[i]!
    if (except?.bySpace.has(c.spaceId) === true) continue
    const doc = roomDoc(rooms, c.spaceId)
    if (doc === undefined || doc.status !== "live") continue
    consider(c, summaryOf(doc), room)
  }
}

/** Empties the group's best into `entries` (when given). */
const takeTop = (entries: Array<FeedEntry> | undefined) => {
  for (let k = 0; k < topSize; k++) {
    const c = topCandidates[k]!
    entries?.push({
      space: topSummaries[k]!,
      followedParticipants: c.followed,
      followsHostOrSpeaker: c.onStage
    })
    topCandidates[k] = undefined
    topSummaries[k] = undefined
  }
  topSize = 0
}

const NO_RANKS: ReadonlyArray<number> = []

/**
 * The viewer's inbox (fanned-out presences) merged with the pulled presences of people they follow.
 *
 * The first two keys of `byFeedRank` come from the feed's rows; only the third, the listener count,
 * needs the Space's room document. So candidates are grouped by the first two, and room documents
 * are read group by group, best first, until the page is full: a viewer following 1,000 people
 * live in 1,000 Spaces reads the documents of the top groups, not of every Space.
 * The answer is exactly `byFeedRank`'s order over every live candidate, cut at `limit`.
 */
export const feedOf = (feed: ReadView, rooms: ReadView, viewer: UserId, limit = DEFAULT_FEED_LIMIT) => {
  const inbox = derivedScan(feed, INBOX, viewer, inboxCandidates)
  const pulled = withPulled(feed, viewer, inbox)
  const entries: Array<FeedEntry> = []
  // Both rankings' groups, merged by rank: a pulled Space's candidate replaces the inbox's.
  const inboxRanks = inbox.ranks
  const pulledRanks = pulled?.ranks ?? NO_RANKS
  let i = 0
  let j = 0
  try {
    while (entries.length < limit && (i < inboxRanks.length || j < pulledRanks.length)) {
      const rank = Math.max(inboxRanks[i] ?? -1, pulledRanks[j] ?? -1)
      const room = limit - entries.length
      if (inboxRanks[i] === rank) gather(rooms, inbox.groups.get(inboxRanks[i++]!)!, pulled, room)
      if (pulled !== undefined && pulledRanks[j] === rank)
        gather(rooms, pulled.groups.get(pulledRanks[j++]!)!, undefined, room)
      takeTop(entries)
    }
  } finally {
    // A read that threw half-way (a malformed row) leaves nothing behind for the next query.
    takeTop(undefined)
  }
  return entries
}
