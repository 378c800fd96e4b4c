import { LogFollower, type SpaceId } from "@spaces/domain"
import { ReadModels } from "@spaces/projections"
import { Effect } from "effect"

/**
 * What the edges that follow the log (media glue, presence, captions) start from after a restart:
 * the Spaces live as of `position`, as the rooms view knows them. They follow the log after it.
 */
export interface LiveAtStart {
  readonly position: number
  readonly live: ReadonlyArray<{ readonly spaceId: SpaceId; readonly recording: boolean }>
}

/**
 * Reads the live Spaces from the read models once they have caught up with the log's end as it was
 * at start (no pass over the log: the views already know). If the views they read stopped on an
 * event they cannot apply, the edges start from there with what the views hold (and `/readyz`
 * says the projections failed).
 */
export const readLiveAtStart: Effect.Effect<LiveAtStart, never, ReadModels | LogFollower> = Effect.gen(
  function* () {
    const follower = yield* LogFollower
    const models = yield* ReadModels
    const head = yield* follower.known
    const reached = yield* models.awaitPosition("search", head.position)
    if (!reached)
      yield* Effect.logError(
        "start-up: the rooms view stopped short of the log's end; live Spaces as it has them"
      )
    // The position and the listing of one moment: a batch committed in between reads again.
    for (;;) {
      const position = yield* models.positionOf("search")
      const { live } = yield* models.search({})
      if ((yield* models.positionOf("search")) === position)
        return {
          position,
          live: live.map(({ spaceId, recording }) => ({ spaceId, recording }))
        } satisfies LiveAtStart
    }
  }
)
