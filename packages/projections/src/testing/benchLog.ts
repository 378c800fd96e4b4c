/**
 * The benchmarks' synthetic logs (projections' rebuild, the server's start-up): valid domain
 * events, built the same way wherever a benchmark needs a large log.
 */
import { randomUUID } from "node:crypto"
import type { EventData, SpaceEvent, SpaceId, UserEvent, UserId } from "@spaces/domain"

export const benchEvent = (e: SpaceEvent | UserEvent, at: number): EventData => ({
  id: randomUUID(),
  type: e._tag,
  data: e,
  metadata: { recordedAt: at }
})

export const benchUser = (i: number) => `u${i}` as UserId
export const benchSpace = (i: number) => `s${i}` as SpaceId

/**
 * One Space's life: created and started by `host`, then 59 listeners (`listener(1..59)`; the host
 * is skipped), every 15th brought on stage, every 7th gone again, and ended unless `ends` is false.
 */
export const spaceLife = (options: {
  readonly index: number
  readonly at: number
  readonly host: UserId
  readonly listener: (l: number) => UserId
  readonly ends: boolean
}): Array<EventData> => {
  const { index, at, host } = options
  const spaceId = benchSpace(index)
  const event = (e: SpaceEvent) => benchEvent(e, at)
  const events: Array<EventData> = [
    event({
      _tag: "SpaceCreated",
      spaceId,
      at,
      host,
      title: `Live talk ${index} about music and tech`,
      topics: [index % 2 === 0 ? "music" : "technology"] as never,
      speakPolicy: "everyone",
      recording: index % 3 === 0,
      captions: false,
      scheduledFor: null
    }),
    event({ _tag: "SpaceStarted", spaceId, at, host })
  ]
  for (let l = 1; l < 60; l++) {
    const user = options.listener(l)
    if (user === host) continue
    events.push(event({ _tag: "ListenerJoined", spaceId, at, user }))
    if (l % 15 === 0) {
      events.push(event({ _tag: "HandRaised", spaceId, at, user }))
      events.push(event({ _tag: "SpeakRequestApproved", spaceId, at, user, by: host }))
    }
    if (l % 7 === 0) events.push(event({ _tag: "ParticipantLeft", spaceId, at, user, reason: "left" }))
  }
  if (options.ends) events.push(event({ _tag: "SpaceEnded", spaceId, at, reason: "host", by: host }))
  return events
}
