import type { SpaceEvent, SpaceStatus, TopicSlug } from "@spaces/domain"
import type { ViewChange } from "../ReadModels.js"
import type { Projection } from "../runner/Projection.js"
import { spaceEventsReadBy } from "../spaceEventReaders.js"
import type { Tx } from "../store/Storage.js"

/**
 * Which live and upcoming Spaces each topic and each title-word prefix has. Only the lifecycle and
 * edits touch it (joins don't): the order by listeners or start time is the rooms projection's
 * summary, read at query time.
 */
export const TOPICS = "topics"
export const META = "meta"
export const LIVE = "live"
export const UPCOMING = "upcoming"
export const PREFIX = "prefix"
/** Words said in a live Space's captions (whole words): search finds Spaces by what was said. */
export const SAID = "said"
/** Distinct caption words indexed per Space; later new words are not (a long Space's vocabulary is broad already). */
export const MAX_SAID_WORDS = 5000
/** The partition of LIVE and UPCOMING that lists every Space whatever its topics. */
export const EVERY = "*"
/** Word prefixes are indexed up to this length; longer query words are checked against the title. */
export const MAX_PREFIX = 16

interface Meta {
  readonly status: SpaceStatus
  readonly title: string
  readonly topics: ReadonlyArray<TopicSlug>
  /** Distinct words of its captions so far. */
  readonly said: ReadonlyArray<string>
}

/** Words of a title or a query: lower-case runs of letters and digits. */
export const wordsOf = (text: string): ReadonlyArray<string> =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== "")

const entries = (meta: Meta | undefined): Set<string> => {
  const out = new Set<string>()
  if (meta === undefined || (meta.status !== "live" && meta.status !== "scheduled")) return out
  const table = meta.status === "live" ? LIVE : UPCOMING
  for (const topic of [EVERY, ...meta.topics]) out.add(`${table}\u0000${topic}`)
  for (const word of wordsOf(meta.title))
    for (let n = 1; n <= Math.min(word.length, MAX_PREFIX); n++) out.add(`${PREFIX}\u0000${word.slice(0, n)}`)
  for (const word of meta.said) out.add(`${SAID}\u0000${word}`)
  return out
}

const step = (tx: Tx, event: SpaceEvent, emit: (change: ViewChange) => void) => {
  const before = tx.get<Meta>(META, event.spaceId, "")
  let after: Meta | undefined
  switch (event._tag) {
    case "SpaceCreated":
      after = {
        status: event.scheduledFor === null ? "none" : "scheduled",
        title: event.title,
        topics: event.topics,
        said: []
      }
      break
    case "SpaceStarted":
      if (before !== undefined) after = { ...before, status: "live" }
      break
    case "SpaceEdited":
      if (before !== undefined) after = { ...before, title: event.title, topics: event.topics }
      break
    case "SpaceEnded":
    case "SpaceCancelled":
    case "SpaceExpired":
      if (before !== undefined) after = { ...before, status: "ended" }
      break
    case "CaptionAppended": {
      if (before === undefined || before.status !== "live") return
      const known = new Set(before.said)
      const fresh = [...new Set(wordsOf(event.segment.text))].filter((w) => !known.has(w))
      const room = Math.max(0, MAX_SAID_WORDS - before.said.length)
      if (fresh.length === 0 || room === 0) return
      after = { ...before, said: [...before.said, ...fresh.slice(0, room)] }
      break
    }
    default:
      return
  }
  if (after === undefined) return
  const old = entries(before)
  const next = entries(after)
  for (const key of old)
    if (!next.has(key)) {
      const [table, part] = key.split("\u0000") as [string, string]
      tx.del(table, part, event.spaceId)
    }
  for (const key of next)
    if (!old.has(key)) {
      const [table, part] = key.split("\u0000") as [string, string]
      tx.put(table, part, event.spaceId, 1)
    }
  // Ended Spaces leave the index for good: their metadata is no longer needed.
  if (after.status === "ended") tx.del(META, event.spaceId, "")
  else tx.put(META, event.spaceId, "", after)
  const topics = [...new Set([...(before?.topics ?? []), ...after.topics])]
  if (topics.length > 0 && event._tag !== "CaptionAppended") emit({ _tag: "Topic", topics })
}

export const topicsProjection: Projection = {
  name: TOPICS,
  version: 2,
  handles: spaceEventsReadBy("topics"),
  step: (tx, event, emit) => {
    if ("spaceId" in event && event._tag !== "SpaceEntered") step(tx, event, emit)
  }
}
