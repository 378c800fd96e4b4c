import type { SpaceId, UserId } from "@spaces/domain"
import { byListeners, liveSummary, roomDoc } from "../room/roomQueries.js"
import type { ReadView } from "../store/Storage.js"
import type { RoomDoc } from "../room/RoomDoc.js"
import type { FeedEntry, LiveSpaceSummary } from "../views.js"
import { FOLLOWERS, INBOX, PULLED, type PulledPresence } from "./feedProjection.js"

export const DEFAULT_FEED_LIMIT = 50

/** SPEC §2's order: followed host or speakers first, then more followed people, then more listeners. */
export const byFeedRank = (a: FeedEntry, b: FeedEntry) =>
  Number(b.followsHostOrSpeaker) - Number(a.followsHostOrSpeaker) ||
  b.followedParticipants.length - a.followedParticipants.length ||
  byListeners(a.space, b.space)

/**
 * One Space the viewer's follows are in, ranked as far as the feed's own rows can tell. Built from
 * the rows once and shared by every query over the same rows (see `candidatesOf`): never changed.
 */
interface Candidate {
  readonly spaceId: string
  readonly users: ReadonlyArray<string>
  readonly speaking: ReadonlyArray<boolean>
  readonly onStage: boolean
  /** `users`, speakers first, then by id: the entry's `followedParticipants`. */
  readonly followed: ReadonlyArray<UserId>
}

const byPresence = (a: Candidate, b: Candidate) =>
  Number(b.onStage) - Number(a.onStage) || b.users.length - a.users.length

const candidate = (spaceId: string, users: Array<string>, speaking: Array<boolean>): Candidate => {
  // Most Spaces hold one followed person: nothing to order.
  if (users.length === 1)
    return { spaceId, users, speaking, onStage: speaking[0] === true, followed: users as Array<UserId> }
  const order = users.map((_, i) => i)
  order.sort((a, b) => {
    const x = users[a] as string
    const y = users[b] as string
    return Number(speaking[b]) - Number(speaking[a]) || (x < y ? -1 : x > y ? 1 : 0)
  })
  return {
    spaceId,
    users,
    speaking,
    onStage: speaking.includes(true),
    followed: order.map((i) => users[i] as UserId)
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

interface Ranked {
  /** By `byPresence` (stable: ties keep the order the Spaces first appear in). */
  readonly candidates: ReadonlyArray<Candidate>
  readonly bySpace: ReadonlyMap<string, Candidate>
}

/**
 * The viewer's inbox rows as ranked candidates, remembered per rows array: a store that keeps the
 * rows between queries (see `ReadCache`) answers the same array until the inbox changes, so the
 * query groups, sorts and allocates them once per change instead of once per query. A store that
 * reads afresh answers a new array each time, and this is computed each time: same answer.
 */
const inboxRanked = new WeakMap<object, Ranked>()
const candidatesOf = (rows: ReadonlyArray<readonly [string, boolean]>): Ranked => {
  const known = inboxRanked.get(rows)
  if (known !== undefined) return known
  const grouping = new Grouping()
  for (const [id, speaking] of rows) {
    // An inbox row's id is `inboxId(spaceId, user)`.
    const space = id.indexOf(" ")
    grouping.add(id.slice(0, space), id.slice(space + 1), speaking)
  }
  const bySpace = new Map<string, Candidate>()
  for (const [spaceId, { users, speaking }] of grouping.bySpace)
    bySpace.set(spaceId, candidate(spaceId, users, speaking))
  const ranked = { candidates: [...bySpace.values()].sort(byPresence), bySpace }
  inboxRanked.set(rows, ranked)
  return ranked
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
 * What a viewer's last query merged: over which pulled list, and which of its presences the viewer
 * follows (by index), so that the next query over the same rows and follows reuses the result.
 */
interface Merged {
  readonly pulled: ReadonlyArray<readonly [string, PulledPresence]>
  readonly follows: ReadonlyArray<boolean>
  readonly candidates: ReadonlyArray<Candidate>
}
/** Keyed by the inbox's `Ranked`: one viewer's (its rows are per viewer), forgotten with it. */
const mergedOf = new WeakMap<Ranked, Merged>()

/**
 * The inbox's candidates with the pulled presences of people the viewer follows merged in: the
 * inbox's own (shared) list when none is live; else a merged list, reused while the inbox, the
 * pulled list and the viewer's follows among them stay the same.
 */
const withPulled = (feed: ReadView, viewer: UserId, inbox: Ranked): ReadonlyArray<Candidate> => {
  const pulled = feed.scan<PulledPresence>(PULLED, "")
  const last = mergedOf.get(inbox)
  let same = last !== undefined && last.pulled === pulled
  let any = false
  for (let i = 0; i < pulled.length; i++) {
    const follows = feed.get(FOLLOWERS, pulled[i]![1].user, viewer) !== undefined
    any ||= follows
    if (same && last?.follows[i] !== follows) same = false
  }
  if (!any) return inbox.candidates
  if (same && last !== undefined) return last.candidates
  const follows = pulled.map(([, presence]) => feed.get(FOLLOWERS, presence.user, viewer) !== undefined)
  const grouping = new Grouping()
  pulled.forEach(([, presence], i) => {
    if (!follows[i]) return
    // What the inbox knows of the Space first, then the pulled presence over it.
    if (!grouping.bySpace.has(presence.spaceId)) {
      const known = inbox.bySpace.get(presence.spaceId)
      if (known !== undefined)
        grouping.bySpace.set(presence.spaceId, { users: [...known.users], speaking: [...known.speaking] })
    }
    grouping.add(presence.spaceId, presence.user, presence.speaking)
  })
  const candidates: Array<Candidate> = []
  for (const c of inbox.candidates) if (!grouping.bySpace.has(c.spaceId)) candidates.push(c)
  for (const [spaceId, { users, speaking }] of grouping.bySpace)
    candidates.push(candidate(spaceId, users, speaking))
  candidates.sort(byPresence)
  mergedOf.set(inbox, { pulled, follows, candidates })
  return candidates
}

/**
 * The viewer's inbox (fanned-out presences) merged with the pulled presences of people they follow.
 *
 * The first two keys of `byFeedRank` come from the feed's rows; only the third, the listener count,
 * needs the Space's room document. So candidates are ranked by the first two, and room documents
 * are read group by group (a group: the same two keys) until the page is full: a viewer following
 * 1,000 people live in 1,000 Spaces reads the documents of the top groups, not of every Space.
 * The answer is exactly `byFeedRank`'s order over every live candidate, cut at `limit`.
 */
export const feedOf = (feed: ReadView, rooms: ReadView, viewer: UserId, limit = DEFAULT_FEED_LIMIT) => {
  const candidates = withPulled(feed, viewer, candidatesOf(feed.scan<boolean>(INBOX, viewer)))
  const entries: Array<FeedEntry> = []
  for (let start = 0; start < candidates.length && entries.length < limit; ) {
    let end = start + 1
    while (end < candidates.length && byPresence(candidates[start]!, candidates[end]!) === 0) end++
    const group: Array<FeedEntry> = []
    for (let i = start; i < end; i++) {
      const candidate = candidates[i]!
      const doc = roomDoc(rooms, candidate.spaceId as SpaceId)
      if (doc === undefined || doc.status !== "live") continue
      group.push({
        space: summaryOf(doc),
        followedParticipants: candidate.followed,
        followsHostOrSpeaker: candidate.onStage
      })
    }
    group.sort(byFeedRank)
    for (const entry of group) entries.push(entry)
    start = end
  }
  return entries.length > limit ? entries.slice(0, limit) : entries
}
