import type { SpaceId, UserId } from "@spaces/domain"
import {
  compare,
  bySchedule,
  endedSummary,
  liveSummary,
  roomDoc,
  scheduledSummary
} from "../room/roomQueries.js"
import type { RoomDoc } from "../room/RoomDoc.js"
import type { Projection } from "../runner/Projection.js"
import { spaceEventsReadBy } from "../spaceEventReaders.js"
import type { ReadView } from "../store/Storage.js"
import type { CreatorView } from "../views.js"

/** Each user's hosted Spaces: the ids only (a Space's host never changes); the rest is the room's summary. */
export const CREATOR = "creator"
export const HOSTED = "hosted"

export const creatorProjection: Projection = {
  name: CREATOR,
  version: 1,
  handles: spaceEventsReadBy("creator"),
  step: (tx, event) => {
    if (event._tag === "SpaceCreated") tx.put(HOSTED, event.host, event.spaceId, 1)
  }
}

/** Live (newest first), scheduled (soonest first), ended (most recent first). */
export const creatorOf = (creator: ReadView, rooms: ReadView, user: UserId): CreatorView => {
  const docs: Array<RoomDoc> = []
  for (const [id] of creator.scan(HOSTED, user)) {
    const doc = roomDoc(rooms, id as SpaceId)
    if (doc !== undefined) docs.push(doc)
  }
  return {
    user,
    live: docs
      .filter((d) => d.status === "live")
      .map(liveSummary)
      .sort((a, b) => b.startedAt - a.startedAt || compare(a.spaceId, b.spaceId)),
    scheduled: docs
      .filter((d) => d.status === "scheduled")
      .map(scheduledSummary)
      .sort(bySchedule),
    ended: docs
      .filter((d) => d.status === "ended")
      .map(endedSummary)
      .sort((a, b) => b.endedAt - a.endedAt || compare(a.spaceId, b.spaceId))
  }
}
