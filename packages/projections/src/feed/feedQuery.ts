import type { SpaceId, UserId } from "@spaces/domain"
import { byListeners, liveSummary, roomDoc } from "../room/roomQueries.js"
import type { ReadView } from "../store/Storage.js"
import type { FeedEntry } from "../views.js"
import { FOLLOWERS, INBOX, PULLED, type PulledPresence } from "./feedProjection.js"

export const DEFAULT_FEED_LIMIT = 50

/** SPEC §2's order: followed host or speakers first, then more followed people, then more listeners. */
export const byFeedRank = (a: FeedEntry, b: FeedEntry) =>
  Number(b.followsHostOrSpeaker) - Number(a.followsHostOrSpeaker) ||
  b.followedParticipants.length - a.followedParticipants.length ||
  byListeners(a.space, b.space)

/**
 * One Space the viewer's follows are in, ranked as far as the feed's own rows can tell. Plain
 * arrays, not a map per Space: a query makes one per followed person live, and what it allocates
 * is what the collector's pauses (the query's p99) cost.
 */
interface Candidate {
  readonly spaceId: string
  readonly users: Array<string>
  readonly speaking: Array<boolean>
  onStage: boolean
}

const byPresence = (a: Candidate, b: Candidate) =>
  Number(b.onStage) - Number(a.onStage) || b.users.length - a.users.length

/** Speakers first, then by id. */
const followedOf = ({ users, speaking }: Candidate): Array<UserId> => {
  if (users.length === 1) return users as Array<UserId>
  const order = users.map((_, i) => i)
  order.sort((a, b) => {
    const x = users[a] as string
    const y = users[b] as string
    return Number(speaking[b]) - Number(speaking[a]) || (x < y ? -1 : x > y ? 1 : 0)
  })
  return order.map((i) => users[i] as UserId)
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
  const bySpace = new Map<string, Candidate>()
  const candidates: Array<Candidate> = []
  const add = (spaceId: string, user: string, speaking: boolean) => {
    let candidate = bySpace.get(spaceId)
    if (candidate === undefined) {
      candidate = { spaceId, users: [user], speaking: [speaking], onStage: speaking }
      bySpace.set(spaceId, candidate)
      candidates.push(candidate)
      return
    }
    const at = candidate.users.indexOf(user)
    if (at >= 0) candidate.speaking[at] = speaking
    else {
      candidate.users.push(user)
      candidate.speaking.push(speaking)
    }
    candidate.onStage = candidate.speaking.includes(true)
  }
  for (const [id, speaking] of feed.scan<boolean>(INBOX, viewer)) {
    // An inbox row's id is `inboxId(spaceId, user)`: split in place, no object per row.
    const space = id.indexOf(" ")
    add(id.slice(0, space), id.slice(space + 1), speaking)
  }
  for (const [, pulled] of feed.scan<PulledPresence>(PULLED, ""))
    if (feed.get(FOLLOWERS, pulled.user, viewer) !== undefined)
      add(pulled.spaceId, pulled.user, pulled.speaking)
  candidates.sort(byPresence)
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
        space: liveSummary(doc),
        followedParticipants: followedOf(candidate),
        followsHostOrSpeaker: candidate.onStage
      })
    }
    group.sort(byFeedRank)
    for (const entry of group) entries.push(entry)
    start = end
  }
  return entries.length > limit ? entries.slice(0, limit) : entries
}
