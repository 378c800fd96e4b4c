import {
  decodeRecorded,
  type MalformedEvent,
  type RecordedEvent,
  SpaceEvent,
  UserEvent,
  isSpaceStream,
  isUserStream
} from "@spaces/domain"
import type { Either } from "effect"
import type { ViewChange } from "../ReadModels.js"
import type { DeferredTables, Tx } from "../store/Storage.js"

/** Every event the projections read: a Space's (`space-<id>`) or a user's (`user-<id>`). */
export type DomainEvent = SpaceEvent | UserEvent
export type DomainEventTag = DomainEvent["_tag"]

/**
 * A projection: a name, a version (bump it and the runner drops and replays it from 0), the event
 * types it reads (the others are skipped undecoded, so a malformed event of a type it ignores
 * cannot stop it), and a step. The step is deterministic: it reads the read model as of the
 * previous event through `tx`, writes through `tx` and says which views changed through `emit`,
 * and does nothing else (no clock, no I/O), so that replaying the log always gives the same rows.
 */
export interface Projection {
  readonly name: string
  readonly version: number
  readonly handles: ReadonlySet<DomainEventTag>
  readonly step: (tx: Tx, event: DomainEvent, emit: (change: ViewChange) => void) => void
  /** Tables a staged rebuild may make once at the end instead of event by event (see `DeferredTables`). */
  readonly deferred?: DeferredTables
}

const decodeSpace = decodeRecorded(SpaceEvent)
const decodeUser = decodeRecorded(UserEvent)

/** Decodes a recorded event of a domain stream; `undefined` for streams the projections don't read. */
export const decodeDomainEvent = (
  recorded: RecordedEvent
): Either.Either<DomainEvent, MalformedEvent> | undefined =>
  isSpaceStream(recorded.streamId)
    ? decodeSpace(recorded)
    : isUserStream(recorded.streamId)
      ? decodeUser(recorded)
      : undefined
