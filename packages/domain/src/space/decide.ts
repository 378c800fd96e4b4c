import { Effect, HashSet } from "effect"
import type { SpaceCommand } from "./SpaceCommand.js"
import {
  CaptionsOff,
  NotDueYet,
  PostAlreadyExists,
  PostNotFound,
  ScheduledSpaceExpired,
  SpaceAlreadyExists
} from "./SpaceError.js"
import type { SpaceEvent } from "./SpaceEvent.js"
import type { SpaceState } from "./SpaceState.js"
import { validCaption, validPostText, validSchedule, validTitle, validTopics } from "./validation.js"

import { stageHandlers } from "./decideStage.js"
import {
  live,
  scheduled,
  upcomingOrLive,
  onlyHost,
  moderator,
  notBanned,
  present,
  type Decision,
  type Handlers,
  type SpaceContext
} from "./guards.js"

export { type SpaceContext, standingOf } from "./guards.js"

/** The decisions of the Space itself (its lifecycle, settings, posts, captions), and the room's. */
const handlers: Handlers = {
  CreateSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      if (state.status !== "none") return yield* Effect.fail(new SpaceAlreadyExists({ spaceId: c.spaceId }))
      const title = yield* validTitle(c.title, rules)
      const topics = yield* validTopics(c.topics, rules)
      const scheduledFor =
        c.scheduledFor === undefined ? null : yield* validSchedule(c.scheduledFor, now, rules)
      const created: SpaceEvent = {
        _tag: "SpaceCreated",
        spaceId: c.spaceId,
        at: now,
        host: c.by,
        title,
        topics,
        speakPolicy: c.speakPolicy,
        recording: c.recording,
        captions: c.captions,
        scheduledFor
      }
      return scheduledFor === null
        ? [created, { _tag: "SpaceStarted", spaceId: c.spaceId, at: now, host: c.by }]
        : [created]
    }),
  RescheduleSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "reschedule", "only the host can reschedule a Space")
      const scheduledFor = yield* validSchedule(c.scheduledFor, now, rules)
      return [{ _tag: "SpaceRescheduled", spaceId: c.spaceId, at: now, scheduledFor }]
    }),
  CancelSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "cancel", "only the host can cancel a scheduled Space")
      return [{ _tag: "SpaceCancelled", spaceId: c.spaceId, at: now }]
    }),

  // Early starts are fine; a start past the expiry deadline never reaches here (see `overdue`).,
  StartSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* onlyHost(state, c.by, "start", "only the host can start a scheduled Space")
      return [{ _tag: "SpaceStarted", spaceId: c.spaceId, at: now, host: c.by }]
    }),
  EditSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "edit")
      const title = c.title === undefined ? state.title : yield* validTitle(c.title, rules)
      const topics = c.topics === undefined ? state.topics : yield* validTopics(c.topics, rules)
      const unchanged = title === state.title && topics.join() === state.topics.join()
      return unchanged ? [] : [{ _tag: "SpaceEdited", spaceId: c.spaceId, at: now, by: c.by, title, topics }]
    }),
  ChangeSpeakPolicy: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "change who may request to speak")
      return c.speakPolicy === state.speakPolicy
        ? []
        : [{ _tag: "SpeakPolicyChanged", spaceId: c.spaceId, at: now, by: c.by, speakPolicy: c.speakPolicy }]
    }),
  SetRecording: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* onlyHost(state, c.by, "change recording", "only the host can change recording")
      return c.recording === state.recording
        ? []
        : [{ _tag: "RecordingChanged", spaceId: c.spaceId, at: now, by: c.by, recording: c.recording }]
    }),
  SetCaptions: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "change captions")
      return c.captions === state.captions
        ? []
        : [{ _tag: "CaptionsChanged", spaceId: c.spaceId, at: now, by: c.by, captions: c.captions }]
    }),
  SetReminder: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      return HashSet.has(state.reminders, c.by)
        ? []
        : [{ _tag: "ReminderSet", spaceId: c.spaceId, at: now, user: c.by }]
    }),
  RemoveReminder: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      return HashSet.has(state.reminders, c.by)
        ? [{ _tag: "ReminderRemoved", spaceId: c.spaceId, at: now, user: c.by }]
        : []
    }),
  EndSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      yield* onlyHost(state, c.by, "end", "only the host can end a Space")
      return [{ _tag: "SpaceEnded", spaceId: c.spaceId, at: now, reason: "host", by: c.by }]
    }),
  PublishPost: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* notBanned(state, c.spaceId, c.by)
      const text = yield* validPostText(c.text, rules)
      if (HashSet.has(state.posts, c.postId))
        return yield* Effect.fail(new PostAlreadyExists({ postId: c.postId }))
      return [{ _tag: "PostPublished", spaceId: c.spaceId, at: now, postId: c.postId, author: c.by, text }]
    }),
  PinPost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "pin a post")
      if (!HashSet.has(state.posts, c.postId))
        return yield* Effect.fail(new PostNotFound({ postId: c.postId }))
      return state.pinnedPost === c.postId
        ? []
        : [{ _tag: "PostPinned", spaceId: c.spaceId, at: now, postId: c.postId, by: c.by }]
    }),
  UnpinPost: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      yield* moderator(state, c.by, "unpin a post")
      return state.pinnedPost === null
        ? []
        : [{ _tag: "PostUnpinned", spaceId: c.spaceId, at: now, by: c.by }]
    }),
  AppendCaption: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      if (!state.captions) return yield* Effect.fail(new CaptionsOff({ spaceId: c.spaceId }))
      yield* present(state, c.spaceId, c.segment.speaker)
      const segment = yield* validCaption(c.segment, rules)
      return [{ _tag: "CaptionAppended", spaceId: c.spaceId, at: now, service: c.service, segment }]
    }),
  ExpireSpace: (c, state, { now, rules }) =>
    Effect.gen(function* () {
      yield* scheduled(state, c.spaceId)
      const dueAt = (state.scheduledFor ?? now) + rules.scheduledExpiryMs
      if (now < dueAt)
        return yield* Effect.fail(new NotDueYet({ action: "expire the scheduled Space", dueAt }))
      return [{ _tag: "SpaceExpired", spaceId: c.spaceId, at: now }]
    }),
  EndAbandonedSpace: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* live(state, c.spaceId)
      // The host came back: nothing to end (the scheduler's order may arrive late).
      if (state.hostAway === null) return []
      if (now < state.hostAway.graceEndsAt)
        return yield* Effect.fail(
          new NotDueYet({ action: "end the Space for its host's absence", dueAt: state.hostAway.graceEndsAt })
        )
      return [{ _tag: "SpaceEnded", spaceId: c.spaceId, at: now, reason: "host_absent", by: "system" }]
    }),
  EndSpaceByOperator: (c, state, { now }) =>
    Effect.gen(function* () {
      yield* upcomingOrLive(state, c.spaceId)
      const note = c.reason.trim()
      return [
        {
          _tag: "SpaceEnded",
          spaceId: c.spaceId,
          at: now,
          reason: "operator",
          by: c.operator,
          ...(note === "" ? {} : { note })
        }
      ]
    }),
  ...stageHandlers
}

/**
 * Commands that still apply to a scheduled Space past its deadline: creation (it answers that the
 * Space exists), the expiry itself, and an operator's override.
 */
const UNAFFECTED_BY_EXPIRY = new Set<SpaceCommand["_tag"]>([
  "CreateSpace",
  "ExpireSpace",
  "EndSpaceByOperator"
])

/**
 * From `scheduledFor + scheduledExpiryMs` on, a scheduled Space is expired whether or not the
 * scheduler has recorded it: every other command is refused as it would be once `ExpireSpace`
 * lands, so the outcome never depends on how late the clock runs. (The exact complement of
 * `ExpireSpace`'s `NotDueYet`: at any instant either the host may act or the Space may expire.)
 */
const overdue = (
  command: SpaceCommand,
  state: SpaceState,
  { now, rules }: SpaceContext
): ScheduledSpaceExpired | undefined => {
  if (state.status !== "scheduled" || state.scheduledFor === null || UNAFFECTED_BY_EXPIRY.has(command._tag))
    return undefined
  const expiredAt = state.scheduledFor + rules.scheduledExpiryMs
  return now >= expiredAt
    ? new ScheduledSpaceExpired({ spaceId: command.spaceId, expiredAt, expiryMs: rules.scheduledExpiryMs })
    : undefined
}

/** Decides what a command means for a Space: the events it causes, or the rule it breaks. */
export const decide = (command: SpaceCommand, state: SpaceState, ctx: SpaceContext): Decision => {
  const expired = overdue(command, state, ctx)
  if (expired !== undefined) return Effect.fail(expired)
  const handler = handlers[command._tag] as (c: SpaceCommand, s: SpaceState, x: SpaceContext) => Decision
  return handler(command, state, ctx)
}
