import type { Effect } from "effect"

/**
 * An aggregate's behaviour as three pure parts (the decider pattern): `decide` turns a command
 * into events or a typed rejection, `evolve` folds an event into the state, `initialState` is the
 * state before any event. `Ctx` is what a decision may look at besides the state (time, rules).
 */
export interface Decider<Command, Event, State, Ctx, Err> {
  readonly decide: (command: Command, state: State, ctx: Ctx) => Effect.Effect<ReadonlyArray<Event>, Err>
  readonly evolve: (state: State, event: Event) => State
  readonly initialState: State
}
