import { decodeRecorded, type RecordedEvent, SpaceEvent, type SpaceId } from "@spaces/domain"
import { Effect, Either, FiberMap, type Queue, Schedule, type Scope, Stream } from "effect"

const decode = decodeRecorded(SpaceEvent)
const ENDS: ReadonlySet<string> = new Set(["SpaceEnded", "SpaceCancelled", "SpaceExpired"])

/**
 * Runs `perSpace` for every live Space (those of the startup scan, then each `SpaceStarted` of the
 * log) until it ends; a run that stops (its room not open yet, or reopened) starts again a second later.
 */
export const forEachLiveSpace = <R>(
  liveAtStart: Iterable<SpaceId>,
  log: Queue.Dequeue<RecordedEvent>,
  perSpace: (spaceId: SpaceId) => Effect.Effect<unknown, unknown, R>
): Effect.Effect<void, never, R | Scope.Scope> =>
  Effect.gen(function* () {
    const runs = yield* FiberMap.make<SpaceId>()
    const start = (spaceId: SpaceId) =>
      FiberMap.run(
        runs,
        spaceId,
        perSpace(spaceId).pipe(Effect.ignore, Effect.repeat(Schedule.spaced("1 second"))),
        { onlyIfMissing: true }
      )
    for (const spaceId of liveAtStart) yield* start(spaceId)
    yield* Stream.fromQueue(log).pipe(
      Stream.filter(
        (r) => r.streamId.startsWith("space-") && (r.type === "SpaceStarted" || ENDS.has(r.type))
      ),
      Stream.runForEach((r) => {
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return Effect.void
        const e = decoded.right
        return e._tag === "SpaceStarted" ? Effect.asVoid(start(e.spaceId)) : FiberMap.remove(runs, e.spaceId)
      })
    )
  })
