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

/** The viewer's inbox (fanned-out presences) merged with the pulled presences of people they follow. */
export const feedOf = (feed: ReadView, rooms: ReadView, viewer: UserId, limit = DEFAULT_FEED_LIMIT) => {
  const bySpace = new Map<string, Map<string, boolean>>()
  const add = (spaceId: string, user: string, speaking: boolean) => {
    const people = bySpace.get(spaceId) ?? new Map<string, boolean>()
    people.set(user, speaking)
    bySpace.set(spaceId, people)
  }
  for (const [id, speaking] of feed.scan<boolean>(INBOX, viewer)) {
    const { spaceId, user } = ofInboxId(id)
    add(spaceId, user, speaking)
  }
  for (const [, pulled] of feed.scan<PulledPresence>(PULLED, ""))
    if (feed.get(FOLLOWERS, pulled.user, viewer) !== undefined)
      add(pulled.spaceId, pulled.user, pulled.speaking)
  const entries: Array<FeedEntry> = []
  for (const [spaceId, people] of bySpace) {
    const doc = roomDoc(rooms, spaceId as SpaceId)
    if (doc === undefined || doc.status !== "live") continue
    const followed = [...people].sort(
      ([a, onStageA], [b, onStageB]) => Number(onStageB) - Number(onStageA) || (a < b ? -1 : a > b ? 1 : 0)
    )
    entries.push({
      space: liveSummary(doc),
      followedParticipants: followed.map(([user]) => user as UserId),
      followsHostOrSpeaker: followed.some(([, onStage]) => onStage)
    })
  }
  return entries.sort(byFeedRank).slice(0, limit)
}
