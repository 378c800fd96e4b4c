/** The checks and shared steps every Space decision is made of. */
import { Effect, HashSet } from "effect"
import type { RoomRules } from "../rules/RoomRules.js"
import type { SpaceCommand, SpaceCommandOf } from "./SpaceCommand.js"
import {
  BannedFromSpace,
  ListenerLimitReached,
  NotASpeaker,
  NotInSpace,
  NotPermitted,
  type SpaceError,
  SpaceHasEnded,
  SpaceNotFound,
  SpeakerLimitReached,
  type Standing,
  WrongSpaceStatus
} from "./SpaceError.js"
import type { LeaveReason, SpaceEvent } from "./SpaceEvent.js"
import {
  isModeratorRole,
  isSpeakingRole,
  type Participant,
  participantOf,
  type SpaceState
} from "./SpaceState.js"
import type { SpaceId, UserId } from "./SpaceValues.js"

/** What a decision may look at besides the Space's own state. */
export interface SpaceContext {
  readonly now: number
  readonly rules: RoomRules
  /** Does the host follow `user`? (The `followed` speak policy.) */
  readonly hostFollows: (user: UserId) => boolean
}

export type Decision = Effect.Effect<ReadonlyArray<SpaceEvent>, SpaceError>

export const standingOf = (state: SpaceState, user: UserId): Standing => {
  if (HashSet.has(state.banned, user)) return "removed"
  if (user === state.host) return "host"
  return participantOf(state, user)?.role ?? "outsider"
}

/** The Space must exist and not have ended. */
export const existing = (state: SpaceState, spaceId: SpaceId): Effect.Effect<SpaceState, SpaceError> => {
  if (state.status === "none") return Effect.fail(new SpaceNotFound({ spaceId }))
  if (state.status === "ended")
    return Effect.fail(new SpaceHasEnded({ spaceId, reason: state.endReason ?? "host" }))
  return Effect.succeed(state)
}

export const inStatus =
  (required: "scheduled" | "live" | "scheduled or live") =>
  (state: SpaceState, spaceId: SpaceId): Effect.Effect<SpaceState, SpaceError> =>
    Effect.flatMap(existing(state, spaceId), (s) =>
      required === "scheduled or live" || s.status === required
        ? Effect.succeed(s)
        : Effect.fail(new WrongSpaceStatus({ spaceId, status: s.status, required }))
    )
export const live = inStatus("live")
export const scheduled = inStatus("scheduled")
export const upcomingOrLive = inStatus("scheduled or live")

export const onlyHost = (state: SpaceState, user: UserId, action: string, rule: string) =>
  user === state.host
    ? Effect.void
    : Effect.fail(new NotPermitted({ action, standing: standingOf(state, user), rule }))

/** Host or co-host: co-hosts can do everything the host can except end, co-hosts and recording. */
export const moderator = (state: SpaceState, user: UserId, action: string) =>
  user === state.host || isModeratorRole(participantOf(state, user)?.role)
    ? Effect.void
    : Effect.fail(
        new NotPermitted({
          action,
          standing: standingOf(state, user),
          rule: "only the host and co-hosts can do this"
        })
      )

// Errors name the command's Space id, never the state's: a decision must hold for any state.
export const notBanned = (state: SpaceState, spaceId: SpaceId, user: UserId) =>
  HashSet.has(state.banned, user) ? Effect.fail(new BannedFromSpace({ spaceId, user })) : Effect.void

export const present = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId
): Effect.Effect<Participant, SpaceError> => {
  const participant = participantOf(state, user)
  return participant === undefined
    ? Effect.fail(new NotInSpace({ spaceId, user }))
    : Effect.succeed(participant)
}

export const speaking = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId
): Effect.Effect<Participant, SpaceError> =>
  Effect.flatMap(present(state, spaceId, user), (p) =>
    isSpeakingRole(p.role) ? Effect.succeed(p) : Effect.fail(new NotASpeaker({ user, role: p.role }))
  )

/** Room for one more speaker (host and co-hosts count). */
export const speakerSeat = (state: SpaceState, rules: RoomRules) =>
  state.counts.speakers >= rules.maxSpeakers
    ? Effect.fail(new SpeakerLimitReached({ limit: rules.maxSpeakers }))
    : Effect.void

export const listenerSeat = (state: SpaceState, rules: RoomRules) =>
  rules.maxListeners !== null && state.counts.listeners >= rules.maxListeners
    ? Effect.fail(new ListenerLimitReached({ limit: rules.maxListeners }))
    : Effect.void

/** Accepting an invitation joins the room first when the invitee is not in it yet. */
export const joiningIfNeeded = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId,
  at: number
): ReadonlyArray<SpaceEvent> =>
  participantOf(state, user) === undefined ? [{ _tag: "ListenerJoined", spaceId, user, at }] : []

/** A present participant leaves; the host's leave starts the grace period (SPEC: Leave). */
export const leaving = (
  state: SpaceState,
  spaceId: SpaceId,
  user: UserId,
  reason: LeaveReason,
  { now, rules }: SpaceContext
): ReadonlyArray<SpaceEvent> =>
  user === state.host
    ? [{ _tag: "HostLeft", spaceId, at: now, user, graceEndsAt: now + rules.hostGraceMs, reason }]
    : [{ _tag: "ParticipantLeft", spaceId, at: now, user, reason }]

/** The decision of each command, by its tag. */
export type Handlers = {
  readonly [T in SpaceCommand["_tag"]]: (
    command: SpaceCommandOf<T>,
    state: SpaceState,
    ctx: SpaceContext
  ) => Decision
}
