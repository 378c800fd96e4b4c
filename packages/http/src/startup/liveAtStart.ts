import { LogFollower, type SpaceId, type UserId } from "@spaces/domain"
import { ReadModels } from "@spaces/projections"
import { Effect, Option } from "effect"

/** A Space live at start, as the rooms view had it. */
export interface LiveSpaceAtStart {
  readonly spaceId: SpaceId
  readonly recording: boolean
  readonly captions: boolean
  readonly startedAt: number
  readonly participants: ReadonlyArray<UserId>
}

/**
 * What the edges that follow the log (media glue, presence, captions) start from after a restart:
 * the Spaces live as the rooms view knows them, which includes the log up to `position` (perhaps
 * a little more: the edges follow the log after `position`, and each of their steps is idempotent,
 * so an event applied twice changes nothing).
 */
export interface LiveAtStart {
  readonly position: number
  readonly live: ReadonlyArray<LiveSpaceAtStart>
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
    // Read before the listing: the listing includes at least this much.
    const position = yield* models.positionOf("search")
    const live: Array<LiveSpaceAtStart> = []
    for (const { spaceId } of (yield* models.search({})).live) {
      const room = yield* models.room(spaceId)
      if (Option.isNone(room) || room.value.status !== "live") continue
      const { recording, captions, startedAt, participants } = room.value
      live.push({
        spaceId,
        recording,
        captions,
        startedAt: startedAt ?? 0,
        participants: participants.map((p) => p.user)
      })
    }
    return { position, live }
  }
)
