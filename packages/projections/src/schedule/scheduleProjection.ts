import type { RoomRules, SpaceId, UserId } from "@spaces/domain"
import { bySchedule, compare, roomDoc, scheduledSummary } from "../room/roomQueries.js"
import type { Projection } from "../runner/Projection.js"
import { spaceEventsReadBy } from "../spaceEventReaders.js"
import type { ReadView } from "../store/Storage.js"
import type { DueCommand, ScheduledSpaceSummary } from "../views.js"

/**
 * What the clock drives: scheduled Spaces (they expire `scheduledExpiryMs` after their time) and
 * Spaces whose host is away (they end at `graceEndsAt`); and who set reminders. The expiry delay
 * is applied at query time, so that an operator changing it needs no rebuild.
 */
export const SCHEDULE = "schedule"
/** Partition "" → Space id → its scheduled time. */
export const EXPIRY = "expiry"
/** Partition "" → Space id → the end of its host's grace period. */
export const GRACE = "grace"
/** user → Space id. */
export const REMINDS = "reminds"

export const scheduleProjection: Projection = {
  name: SCHEDULE,
  version: 1,
  handles: spaceEventsReadBy("schedule"),
  step: (tx, event) => {
    switch (event._tag) {
      case "SpaceCreated":
        if (event.scheduledFor !== null) tx.put(EXPIRY, "", event.spaceId, event.scheduledFor)
        return
      case "SpaceRescheduled":
        if (tx.get(EXPIRY, "", event.spaceId) !== undefined)
          tx.put(EXPIRY, "", event.spaceId, event.scheduledFor)
        return
      case "SpaceStarted":
        tx.del(EXPIRY, "", event.spaceId)
        return
      case "SpaceEnded":
      case "SpaceCancelled":
      case "SpaceExpired":
        tx.del(EXPIRY, "", event.spaceId)
        tx.del(GRACE, "", event.spaceId)
        return
      case "HostLeft":
        tx.put(GRACE, "", event.spaceId, event.graceEndsAt)
        return
      case "HostReturned":
        tx.del(GRACE, "", event.spaceId)
        return
      case "ReminderSet":
        tx.put(REMINDS, event.user, event.spaceId, 1)
        return
      case "ReminderRemoved":
        tx.del(REMINDS, event.user, event.spaceId)
        return
    }
  }
}

/** Every pending system command, due at or before `now`, soonest first. */
export const dueOf = (schedule: ReadView, rules: Pick<RoomRules, "scheduledExpiryMs">, now: number) => {
  const out: Array<DueCommand> = []
  for (const [id, scheduledFor] of schedule.scan<number>(EXPIRY, "")) {
    const dueAt = scheduledFor + rules.scheduledExpiryMs
    if (dueAt <= now) out.push({ spaceId: id as SpaceId, command: "ExpireSpace", dueAt })
  }
  for (const [id, graceEndsAt] of schedule.scan<number>(GRACE, ""))
    if (graceEndsAt <= now)
      out.push({ spaceId: id as SpaceId, command: "EndAbandonedSpace", dueAt: graceEndsAt })
  return out.sort((a, b) => a.dueAt - b.dueAt || compare(a.spaceId, b.spaceId))
}

/** The scheduled Spaces `user` set a reminder on, soonest first. */
export const remindersOf = (
  schedule: ReadView,
  rooms: ReadView,
  user: UserId
): ReadonlyArray<ScheduledSpaceSummary> => {
  const out: Array<ScheduledSpaceSummary> = []
  for (const [id] of schedule.scan(REMINDS, user)) {
    const doc = roomDoc(rooms, id)
    if (doc?.status === "scheduled") out.push(scheduledSummary(doc))
  }
  return out.sort(bySchedule)
}
