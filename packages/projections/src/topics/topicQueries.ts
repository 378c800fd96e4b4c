import type { SpaceId, TopicSlug } from "@spaces/domain"
import { bySchedule, byListeners, liveSummary, roomDoc, scheduledSummary } from "../room/roomQueries.js"
import type { RoomDoc } from "../room/RoomDoc.js"
import type { ReadView } from "../store/Storage.js"
import type { SearchResults, TopicView } from "../views.js"
import { EVERY, LIVE, MAX_PREFIX, PREFIX, SAID, UPCOMING, wordsOf } from "./topicsProjection.js"

const listing = (rooms: ReadView, ids: Iterable<string>): SearchResults => {
  const docs: Array<RoomDoc> = []
  for (const id of ids) {
    const doc = roomDoc(rooms, id as SpaceId)
    if (doc !== undefined) docs.push(doc)
  }
  return {
    live: docs
      .filter((d) => d.status === "live")
      .map(liveSummary)
      .sort(byListeners),
    upcoming: docs
      .filter((d) => d.status === "scheduled")
      .map(scheduledSummary)
      .sort(bySchedule)
  }
}

const idsOf = (topics: ReadView, table: string, part: string) => topics.scan(table, part).map(([id]) => id)

export const topicOf = (topics: ReadView, rooms: ReadView, topic: TopicSlug): TopicView => ({
  topic,
  ...listing(rooms, [...idsOf(topics, LIVE, topic), ...idsOf(topics, UPCOMING, topic)])
})

/**
 * Spaces where each query word (case-insensitive) starts a word of the title or is a word said in
 * the Space's captions, in the topic if given.
 */
export const searchOf = (
  topics: ReadView,
  rooms: ReadView,
  query: { readonly text?: string; readonly topic?: TopicSlug }
): SearchResults => {
  const words = wordsOf(query.text ?? "")
  // Per query word, the Spaces where it was said (whole words).
  const said = new Map(words.map((w) => [w, new Set(idsOf(topics, SAID, w))]))
  const withWord = (word: string) =>
    new Set([...idsOf(topics, PREFIX, word.slice(0, MAX_PREFIX)), ...said.get(word)!])
  let candidates: Set<string>
  if (words.length === 0) {
    const part = query.topic ?? EVERY
    candidates = new Set([...idsOf(topics, LIVE, part), ...idsOf(topics, UPCOMING, part)])
  } else {
    // Start from the rarest-looking word: the longest prefix has the fewest Spaces.
    const [first, ...rest] = [...words].sort((a, b) => b.length - a.length) as [string, ...Array<string>]
    candidates = withWord(first)
    for (const word of rest) {
      if (candidates.size === 0) break
      const with_ = withWord(word)
      candidates = new Set([...candidates].filter((id) => with_.has(id)))
    }
  }
  const results = listing(rooms, candidates)
  const matches = (s: {
    readonly spaceId: string
    readonly title: string
    readonly topics: ReadonlyArray<TopicSlug>
  }) => {
    if (query.topic !== undefined && !s.topics.includes(query.topic)) return false
    const title = wordsOf(s.title)
    return words.every((w) => title.some((t) => t.startsWith(w)) || said.get(w)!.has(s.spaceId))
  }
  return { live: results.live.filter(matches), upcoming: results.upcoming.filter(matches) }
}
