import { Effect, Either } from "effect"
import type { Decider } from "./Decider.js"

/** How a specification runs a decider's decisions, and how it asserts with the test framework at hand. */
export interface SpecificationOptions<Ctx, Given> {
  /** The context of a decision, from what a test says about it (its time, its rules…). */
  readonly context: (given: Given | undefined) => Ctx
  /** The framework's deep equality, e.g. vitest's `(actual, expected) => expect(actual).toEqual(expected)`. */
  readonly assertEqual: (actual: unknown, expected: unknown) => void
}

/**
 * Specification-style tests over any decider, that read as the rule they check:
 * `given(history).when(command).emits(events)` or `.rejects("Tag", fields)`. Decisions run
 * synchronously (a decider is pure). `Expected` is what a test may write for an event (e.g. its
 * encoded form, without brands).
 */
export const specification = <
  Command,
  Event,
  State,
  Ctx,
  Err extends { readonly _tag: string; readonly message: string },
  Given = Ctx,
  Expected = Event
>(
  decider: Decider<Command, Event, State, Ctx, Err>,
  options: SpecificationOptions<Ctx, Given>
) => {
  const fold = (events: ReadonlyArray<Event>, from: State) => events.reduce(decider.evolve, from)

  const decideNow = (
    command: Command,
    state: State,
    given?: Given
  ): Either.Either<ReadonlyArray<Event>, Err> =>
    Effect.runSync(Effect.either(decider.decide(command, state, options.context(given))))

  const given = (history: ReadonlyArray<Event>, ctx?: Given) => {
    const state = fold(history, decider.initialState)
    return {
      state,
      when: (command: Command) => {
        const outcome = decideNow(command, state, ctx)
        /** The command is accepted; returns what it emitted, for assertions on parts of it. */
        const accepts = (): ReadonlyArray<Event> => {
          if (Either.isLeft(outcome))
            throw new Error(`expected events, got ${outcome.left._tag}: ${outcome.left.message}`)
          return outcome.right
        }
        return {
          outcome,
          accepts,
          /** Exactly these events; returns the state after them, to go on from. */
          emits: (expected: ReadonlyArray<Event | Expected>) => {
            const events = accepts()
            options.assertEqual(events, expected)
            return fold(events, state)
          },
          /** Rejected with this error (and these of its fields), which explains itself in words. */
          rejects: (tag: Err["_tag"], fields?: Readonly<Record<string, unknown>>) => {
            if (Either.isRight(outcome))
              throw new Error(
                `expected ${tag}, got events ${outcome.right.map(tagOf).join(", ") || "(none)"}`
              )
            const error = outcome.left
            options.assertEqual(error._tag, tag)
            for (const [field, value] of Object.entries(fields ?? {}))
              options.assertEqual((error as Readonly<Record<string, unknown>>)[field], value)
            if (error.message.length === 0) throw new Error(`${tag} has no message`)
            return error
          }
        }
      }
    }
  }

  return { given, decideNow, fold }
}

const tagOf = (event: unknown) =>
  typeof event === "object" && event !== null && "_tag" in event ? String(event._tag) : String(event)
