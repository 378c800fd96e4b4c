import type { Decider } from "../Decider.js"
import { type SpaceContext, decide } from "./decide.js"
import { evolve } from "./evolve.js"
import type { SpaceCommand } from "./SpaceCommand.js"
import type { SpaceError } from "./SpaceError.js"
import type { SpaceEvent } from "./SpaceEvent.js"
import { initialSpaceState, type SpaceState } from "./SpaceState.js"

export const SpaceDecider: Decider<SpaceCommand, SpaceEvent, SpaceState, SpaceContext, SpaceError> = {
  decide,
  evolve,
  initialState: initialSpaceState
}
