import { expect } from "vitest"
import type { UserId } from "../ids.js"
import { defaultRoomRules, type RoomRules } from "../rules/RoomRules.js"
import type { SpaceContext } from "../space/decide.js"
import { SpaceDecider } from "../space/SpaceDecider.js"
import { specification } from "../Specification.js"
import type { SpaceCommand } from "../space/SpaceCommand.js"
import type { SpaceError } from "../space/SpaceError.js"
import type { SpaceEvent, SpaceEvent as SpaceEventSchema } from "../space/SpaceEvent.js"
import type { SpaceState } from "../space/SpaceState.js"

export interface SpecContext {
  readonly now?: number
  readonly rules?: RoomRules
  readonly hostFollows?: ReadonlyArray<UserId>
}

const contextOf = (ctx: SpecContext | undefined): SpaceContext => ({
  now: ctx?.now ?? T0,
  rules: ctx?.rules ?? defaultRoomRules,
  hostFollows: (user) => ctx?.hostFollows?.includes(user) ?? false
})

/** The time every specification runs at unless it says otherwise. */
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0)

const spaces = specification<
  SpaceCommand,
  SpaceEvent,
  SpaceState,
  SpaceContext,
  SpaceError,
  SpecContext,
  typeof SpaceEventSchema.Encoded
>(SpaceDecider, { context: contextOf, assertEqual: (actual, expected) => expect(actual).toEqual(expected) })

/** Runs a decision synchronously: deciders are pure, so no service is needed. */
export const decideNow = spaces.decideNow

/**
 * Specification-style tests that read as the rule they check:
 * `given(events).when(command).emits(events)` or `.rejects("Tag", fields)`.
 */
export const given = spaces.given
