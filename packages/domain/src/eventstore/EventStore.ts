import { Context, type Effect, Schema, type Stream } from "effect"
import type {
  EventStoreUnavailable,
  ExpectedRevision,
  MalformedEvent,
  WrongExpectedVersion
} from "./EventStoreError.js"

/** Reading fails when the store is unreachable, or names the stored event it cannot parse. */
export type ReadError = EventStoreUnavailable | MalformedEvent

/** Metadata every event carries; stores keep it as opaque JSON. */
export const EventMetadata = Schema.Struct({
  causationId: Schema.optional(Schema.String),
  correlationId: Schema.optional(Schema.String),
  actor: Schema.optional(Schema.String),
  idempotencyKey: Schema.optional(Schema.String),
  /**
   * Fingerprint of the command that caused the event (`commandDigest`), kept with an idempotency
   * key so that the key reused for another command is refused. Older events lack it.
   */
  commandDigest: Schema.optional(Schema.String),
  /** Milliseconds since the epoch, from the domain's Clock when the command was decided. */
  recordedAt: Schema.Number
})
export type EventMetadata = typeof EventMetadata.Type

/** An event to append. `id` is a UUID chosen by the writer: re-appending the same ids is a no-op. */
export interface EventData {
  readonly id: string
  readonly type: string
  readonly data: unknown
  readonly metadata: EventMetadata
}

/** An event as stored: its place in its stream and in the global log. */
export interface RecordedEvent extends EventData {
  readonly streamId: string
  /** Position in the stream, from 0, no gaps. */
  readonly revision: number
  /** Position in the global log: strictly increasing in commit order, starting above 0. */
  readonly position: number
}

export interface AppendResult {
  /** The stream's revision after the append (its last event's revision). */
  readonly nextRevision: number
  /** Global position of the last event appended. */
  readonly position: number
}

/** One stream's part of a multi-stream append. */
export interface StreamAppend {
  readonly stream: string
  readonly events: ReadonlyArray<EventData>
  readonly expected: ExpectedRevision
}

/** Global positions are exclusive: reading `from: p` yields the events with `position > p`. */
export const START = 0

export interface EventStoreShape {
  /**
   * Appends `events` atomically (all or none) if the stream's revision matches `expected`.
   * Re-appending events whose ids are already stored at the end of the stream returns the
   * original result and writes nothing (idempotent retry after a lost acknowledgement).
   */
  readonly append: (
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ) => Effect.Effect<AppendResult, WrongExpectedVersion | EventStoreUnavailable>
  /**
   * Appends to several streams in one atomic step, in the order given: every stream at its
   * expected revision and all the events written, or nothing written and the first conflict. One
   * result per append, in order. Optional: a store without multi-stream transactions (EventStoreDB)
   * leaves it out, and `appendStreams` appends one stream after the other.
   */
  readonly appendMany?: (
    appends: ReadonlyArray<StreamAppend>
  ) => Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreUnavailable>
  /** The stream's events from `fromRevision` (default 0); an absent stream reads as empty. */
  readonly readStream: (
    stream: string,
    options?: { readonly fromRevision?: number }
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, ReadError>
  /**
   * The stream's current revision, when the store knows it without reading: nothing can have been
   * written to the stream that this process did not see (an embedded store no other process wrote
   * to since). Undefined when it would have to read, or the stream has no events. Optional: a
   * shared server store (PostgreSQL, EventStoreDB) leaves it out. A repository whose cached state is
   * at this revision skips the read that would only confirm it.
   */
  readonly knownRevision?: (stream: string) => number | undefined
  /**
   * The position of the log's last event (0: empty), without reading the log: what an operator's
   * progress bar measures against. Optional: a store that would have to read its log for it
   * leaves it out (the caller reads `readAll` to its end).
   */
  readonly head?: () => Effect.Effect<number, ReadError>
  /** Every event after `from` in commit order, up to the end of the log as of the call. */
  readonly readAll: (from: number) => Stream.Stream<RecordedEvent, ReadError>
  /** Catch-up subscription: every event after `from`, then the new ones as they commit, forever. */
  readonly subscribeAll: (from: number) => Stream.Stream<RecordedEvent, ReadError>
}

/** The port through which the domain reads and writes its event log. */
export class EventStore extends Context.Tag("@spaces/domain/EventStore")<EventStore, EventStoreShape>() {}

/** Where a named subscriber (a projection, a process manager) got to in the global log. */
export interface CheckpointStoreShape {
  readonly load: (name: string) => Effect.Effect<number, EventStoreUnavailable>
  readonly save: (name: string, position: number) => Effect.Effect<void, EventStoreUnavailable>
}

export class CheckpointStore extends Context.Tag("@spaces/domain/CheckpointStore")<
  CheckpointStore,
  CheckpointStoreShape
>() {}
