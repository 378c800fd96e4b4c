import type { LogFollowerShape, RecordedEvent } from "@spaces/domain"
import type { Effect, Queue, Scope } from "effect"

/**
 * The live streams' view of the process's one log follower (`LogFollower`): subscribers get each
 * event the follower delivers after they subscribed. The follower owns resubscribing after a store
 * outage, with the process's one retry policy.
 */
export interface LogHub {
  readonly subscribe: Effect.Effect<Queue.Dequeue<RecordedEvent>, never, Scope.Scope>
  /** The last global position the follower has delivered. */
  readonly head: () => number
}

export const logHubOf = (follower: LogFollowerShape): LogHub => ({
  subscribe: follower.live,
  head: () => follower.head().position
})
