import type { SpaceId, UserId } from "@spaces/domain"
import { byListeners, liveSummary, roomDoc } from "../room/roomQueries.js"
import type { ReadView } from "../store/Storage.js"
import type { FeedEntry } from "../views.js"
import { FOLLOWERS, INBOX, ofInboxId, PULLED, type PulledPresence } from "./feedProjection.js"

export const DEFAULT_FEED_LIMIT = 50

/** SPEC §2's order: followed host or speakers first, then more followed people, then more listeners. */
export const byFeedRank = (a: FeedEntry, b: FeedEntry) =>
  Number(b.followsHostOrSpeaker) - Number(a.followsHostOrSpeaker) ||
  b.followedParticipants.length - a.followedParticipants.length ||
  byListeners(a.space, b.space)

/** One Space the viewer's follows are in, ranked as far as the feed's own rows can tell. */
interface Candidate {
  readonly spaceId: string
  readonly people: Map<string, boolean>
  readonly onStage: boolean
}

const byPresence = (a: Candidate, b: Candidate) =>
  Number(b.onStage) - Number(a.onStage) || b.people.size - a.people.size

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
  const bySpace = new Map<string, Map<string, boolean>>()
  const add = (spaceId: string, user: string, speaking: boolean) => {
    let people = bySpace.get(spaceId)
    if (people === undefined) {
      people = new Map<string, boolean>()
      bySpace.set(spaceId, people)
    }
    people.set(user, speaking)
  }
  for (const [id, speaking] of feed.scan<boolean>(INBOX, viewer)) {
    const { spaceId, user } = ofInboxId(id)
    add(spaceId, user, speaking)
  }
  for (const [, pulled] of feed.scan<PulledPresence>(PULLED, ""))
    if (feed.get(FOLLOWERS, pulled.user, viewer) !== undefined)
      add(pulled.spaceId, pulled.user, pulled.speaking)
  const candidates: Array<Candidate> = []
  for (const [spaceId, people] of bySpace) {
    let onStage = false
    for (const speaking of people.values()) onStage ||= speaking
    candidates.push({ spaceId, people, onStage })
  }
  candidates.sort(byPresence)
  const entries: Array<FeedEntry> = []
  for (let start = 0; start < candidates.length && entries.length < limit; ) {
    let end = start + 1
    while (end < candidates.length && byPresence(candidates[start]!, candidates[end]!) === 0) end++
    const group: Array<FeedEntry> = []
    for (let i = start; i < end; i++) {
      const { spaceId, people, onStage } = candidates[i]!
      const doc = roomDoc(rooms, spaceId as SpaceId)
      if (doc === undefined || doc.status !== "live") continue
      const followed = [...people].sort(
        ([a, onStageA], [b, onStageB]) => Number(onStageB) - Number(onStageA) || (a < b ? -1 : a > b ? 1 : 0)
      )
      group.push({
        space: liveSummary(doc),
        followedParticipants: followed.map(([user]) => user as UserId),
        followsHostOrSpeaker: onStage
      })
    }
    group.sort(byFeedRank)
    for (const entry of group) entries.push(entry)
    start = end
  }
  return entries.slice(0, limit)
}
