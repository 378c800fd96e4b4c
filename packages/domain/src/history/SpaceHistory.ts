import { Effect, Either } from "effect"
import { EventStore, type EventMetadata, type ReadError } from "../eventstore/EventStore.js"
import { decodeRecorded } from "../handler/AggregateRepository.js"
import type { SpaceId } from "../ids.js"
import { evolve } from "../space/evolve.js"
import { spaceStream } from "../streams.js"
import { SpaceEvent } from "../space/SpaceEvent.js"
import { initialSpaceState, type SpaceState } from "../space/SpaceState.js"

/** One entry of a Space's log: the event and where and when it was recorded. */
export interface LoggedSpaceEvent {
  readonly event: SpaceEvent
  readonly revision: number
  readonly position: number
  readonly metadata: EventMetadata
}

/** A point of a Space's history: a global log position, or a time (ms since the epoch). */
export type AsOf = { readonly position: number } | { readonly time: number }

const decode = decodeRecorded(SpaceEvent)

/** The Space's full event log, decoded: the source of truth for every view of it. */
export const spaceLog = (
  spaceId: SpaceId
): Effect.Effect<ReadonlyArray<LoggedSpaceEvent>, ReadError, EventStore> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const recorded = yield* store.readStream(spaceStream(spaceId))
    return yield* Effect.forEach(recorded, (r) =>
      Either.map(decode(r), (event) => ({
        event,
        revision: r.revision,
        position: r.position,
        metadata: r.metadata
      }))
    )
  })

const includes = (asOf: AsOf, entry: LoggedSpaceEvent) =>
  "position" in asOf ? entry.position <= asOf.position : entry.metadata.recordedAt <= asOf.time

/** The Space as it was at a point of its history, rebuilt from its events alone. */
export const spaceAsOf = (
  spaceId: SpaceId,
  asOf: AsOf
): Effect.Effect<{ readonly state: SpaceState; readonly revision: number }, ReadError, EventStore> =>
  Effect.map(spaceLog(spaceId), (log) => {
    let state = initialSpaceState
    let revision = -1
    for (const entry of log) {
      if (!includes(asOf, entry)) break
      state = evolve(state, entry.event)
      revision = entry.revision
    }
    return { state, revision }
  })
