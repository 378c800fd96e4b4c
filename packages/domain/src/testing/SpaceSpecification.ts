import { Effect, Either } from "effect"
import { expect } from "vitest"
import type { UserId } from "../ids.js"
import { defaultRoomRules, type RoomRules } from "../rules/RoomRules.js"
import { decide, type SpaceContext } from "../space/decide.js"
import { fold } from "../space/evolve.js"
import type { SpaceCommand } from "../space/SpaceCommand.js"
import type { SpaceError } from "../space/SpaceError.js"
import type { SpaceEvent, SpaceEvent as SpaceEventSchema } from "../space/SpaceEvent.js"
import { initialSpaceState, type SpaceState } from "../space/SpaceState.js"

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

/** Runs a decision synchronously: deciders are pure, so no service is needed. */
export const decideNow = (
  command: SpaceCommand,
  state: SpaceState,
  ctx?: SpecContext
): Either.Either<ReadonlyArray<SpaceEvent>, SpaceError> =>
  Effect.runSync(Effect.either(decide(command, state, contextOf(ctx))))

/**
 * Specification-style tests that read as the rule they check:
 * `given(events).when(command).emits(events)` or `.rejects("Tag", fields)`.
 */
export const given = (history: ReadonlyArray<SpaceEvent>, ctx?: SpecContext) => {
  const state = fold(history, initialSpaceState)
  return {
    state,
    when: (command: SpaceCommand) => {
      const outcome = decideNow(command, state, ctx)
      return {
        outcome,
        /** Expected events may be written plainly (the encoded form: no brands needed). */
        emits: (expected: ReadonlyArray<SpaceEvent | typeof SpaceEventSchema.Encoded>) => {
          if (Either.isLeft(outcome))
            throw new Error(`expected events, got ${outcome.left._tag}: ${outcome.left.message}`)
          expect(outcome.right).toEqual(expected)
          return fold(outcome.right, state)
        },
        /** The command is accepted; returns what it emitted, for assertions on parts of it. */
        accepts: (): ReadonlyArray<SpaceEvent> => {
          if (Either.isLeft(outcome))
            throw new Error(`expected events, got ${outcome.left._tag}: ${outcome.left.message}`)
          return outcome.right
        },
        rejects: (tag: SpaceError["_tag"], fields?: Record<string, unknown>) => {
          if (Either.isRight(outcome))
            throw new Error(
              `expected ${tag}, got events ${outcome.right.map((e) => e._tag).join(", ") || "(none)"}`
            )
          expect(outcome.left._tag).toBe(tag)
          if (fields) expect(outcome.left).toMatchObject(fields)
          expect(outcome.left.message.length).toBeGreaterThan(0)
          return outcome.left
        }
      }
    }
  }
}
