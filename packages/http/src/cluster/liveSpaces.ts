import { decodeRecorded, isSpaceStream, type RecordedEvent, SpaceEvent, type SpaceId } from "@spaces/domain"
import { Effect, Either, FiberMap, Schedule, type Scope, Stream } from "effect"

const decode = decodeRecorded(SpaceEvent)
const ENDS: ReadonlySet<string> = new Set(["SpaceEnded", "SpaceCancelled", "SpaceExpired"])

/** The Spaces live at start (as the rooms view knows them) and the log from the view's position on. */
export type LiveSpacesAtStart = Effect.Effect<{
  readonly live: Iterable<SpaceId>
  readonly log: Stream.Stream<RecordedEvent>
}>

/**
 * Runs `perSpace` for every live Space (those of the rooms view at start, then each `SpaceStarted` of the
 * log) until it ends; a run that stops (its room not open yet, or reopened) starts again a second later.
 */
export const forEachLiveSpace = <R>(
  startup: LiveSpacesAtStart,
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
    const { live, log } = yield* startup
    for (const spaceId of live) yield* start(spaceId)
    yield* log.pipe(
      Stream.filter((r) => isSpaceStream(r.streamId) && (r.type === "SpaceStarted" || ENDS.has(r.type))),
      Stream.runForEach((r) => {
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return Effect.void
        const e = decoded.right
        return e._tag === "SpaceStarted" ? Effect.asVoid(start(e.spaceId)) : FiberMap.remove(runs, e.spaceId)
      })
    )
  })
