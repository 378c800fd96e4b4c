import { PostId, SpaceId, UserId } from "../ids.js"
import { TopicSlug } from "../rules/RoomRules.js"
import type { SpaceEvent, SpaceEventOf } from "../space/SpaceEvent.js"
import { T0 } from "./SpaceSpecification.js"

/** Short names for the people and things the specifications talk about. */
export const user = (name: string) => UserId.make(name)
export const space = SpaceId.make("s1")
export const post = (name: string) => PostId.make(name)
export const host = user("hana")
export const cohost = user("carl")
export const speaker = user("sam")
export const listener = user("lee")
export const outsider = user("olga")
export const removed = user("rex")

const at = T0 - 60_000

export const created = (
  options: {
    scheduledFor?: number
    captions?: boolean
    speakPolicy?: "everyone" | "followed" | "invited"
  } = {}
): SpaceEventOf<"SpaceCreated"> => ({
  _tag: "SpaceCreated",
  spaceId: space,
  at,
  host,
  title: "Morning show",
  topics: [TopicSlug.make("music")],
  speakPolicy: options.speakPolicy ?? "everyone",
  recording: false,
  captions: options.captions ?? true,
  scheduledFor: options.scheduledFor ?? null
})

export const scheduledSpace = (scheduledFor = T0 + 3_600_000): ReadonlyArray<SpaceEvent> => [
  created({ scheduledFor })
]

export const liveSpace = (options: Parameters<typeof created>[0] = {}): ReadonlyArray<SpaceEvent> => [
  created(options),
  { _tag: "SpaceStarted", spaceId: space, at, host }
]

export const joined = (who: UserId): SpaceEvent => ({ _tag: "ListenerJoined", spaceId: space, at, user: who })

export const promotedToSpeaker = (who: UserId): ReadonlyArray<SpaceEvent> => [
  joined(who),
  { _tag: "HandRaised", spaceId: space, at, user: who },
  { _tag: "SpeakRequestApproved", spaceId: space, at, user: who, by: host }
]

export const promotedToCoHost = (who: UserId): ReadonlyArray<SpaceEvent> => [
  joined(who),
  { _tag: "CoHostInvited", spaceId: space, at, user: who, by: host },
  { _tag: "CoHostInviteAccepted", spaceId: space, at, user: who }
]

/** A live Space with one person of every standing. */
export const fullRoom = (options: Parameters<typeof created>[0] = {}): ReadonlyArray<SpaceEvent> => [
  ...liveSpace(options),
  ...promotedToCoHost(cohost),
  ...promotedToSpeaker(speaker),
  joined(listener),
  joined(removed),
  { _tag: "ParticipantRemoved", spaceId: space, at, user: removed, by: host }
]

export const ended: SpaceEvent = { _tag: "SpaceEnded", spaceId: space, at, reason: "host", by: host }
