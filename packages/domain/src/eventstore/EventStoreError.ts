import { Schema } from "effect"

/** What a writer expected the stream's revision to be. Revisions count from 0 with no gaps. */
export type ExpectedRevision = "any" | "no_stream" | "stream_exists" | number

/** The stream's actual revision when an append was refused; `"no_stream"` when it does not exist. */
export const ActualRevision = Schema.Union(Schema.Literal("no_stream"), Schema.NonNegativeInt)
export type ActualRevision = typeof ActualRevision.Type

export class WrongExpectedVersion extends Schema.TaggedError<WrongExpectedVersion>()("WrongExpectedVersion", {
  stream: Schema.String,
  expected: Schema.Union(Schema.Literal("any", "no_stream", "stream_exists"), Schema.NonNegativeInt),
  actual: ActualRevision
}) {
  override get message() {
    return `stream ${this.stream}: expected revision ${this.expected}, actual ${this.actual}`
  }
}

/** The store could not be reached or failed: not a client mistake, safe to retry later. */
export class EventStoreUnavailable extends Schema.TaggedError<EventStoreUnavailable>()(
  "EventStoreUnavailable",
  { reason: Schema.String }
) {
  override get message() {
    return `event store unavailable: ${this.reason}`
  }
}

/** A stored event whose payload does not decode with its schema (foreign or corrupted data). */
export class MalformedEvent extends Schema.TaggedError<MalformedEvent>()("MalformedEvent", {
  stream: Schema.String,
  revision: Schema.Number,
  type: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `malformed event ${this.type} at ${this.stream}@${this.revision}: ${this.reason}`
  }
}
