/** Mapping between EventStoreDB's client and the port: records, revisions, errors, and catch-up reads of `$all`. */
import type {
  AppendExpectedRevision,
  CurrentRevision,
  RecordedEvent as EsdbRecordedEvent,
  WrongExpectedVersionError
} from "@eventstore/db-client"
import {
  type ActualRevision,
  type EventData,
  type EventMetadata,
  EventStoreUnavailable,
  type ExpectedRevision,
  isRetryOf,
  MalformedEvent,
  type ReadError,
  type RecordedEvent,
  WrongExpectedVersion
} from "@spaces/domain"
import { Effect, Option, Schedule, Stream } from "effect"
import { esdbClient } from "./client.js"
import { isBeyondNumber, knownPosition } from "./positions.js"

/** Checkpoints are stored in ESDB streams under this prefix; reads of the log leave them out. */
export const CHECKPOINT_STREAM_PREFIX = "spaces-checkpoint-"

/**
 * The server refused the adapter's credentials: none given to a secure node, a wrong user or
 * password (the client turns gRPC UNAUTHENTICATED into `AccessDeniedError` too), or a user without
 * the rights asked for (reading `$all` needs an admin or `$ops` user). Retrying can't fix that, so
 * it is not retried here; it stays an `EventStoreUnavailable` to the port (it has no error for a
 * misconfigured store), with a reason that names the cause and what to check.
 */
export class EventStoreAccessDenied extends EventStoreUnavailable {}

/** Whether retrying later may succeed: not when the store refuses our credentials. */
export const isRetryable = (error: ReadError | WrongExpectedVersion): boolean =>
  error._tag === "EventStoreUnavailable" && !(error instanceof EventStoreAccessDenied)

/**
 * A client error as the port's. Transient ones (unavailable, deadline exceeded, connection lost,
 * not leader: the client reconnects to the leader itself) stay plain `EventStoreUnavailable`.
 */
export const fromClientError = (cause: unknown): EventStoreUnavailable => {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return cause instanceof esdbClient().AccessDeniedError
    ? new EventStoreAccessDenied({
        reason:
          `access denied by EventStoreDB (${detail || "no details"}): check the connection string's ` +
          "credentials; reading $all needs an admin or $ops user on a secure node"
      })
    : new EventStoreUnavailable({ reason: detail })
}

/** The port's names ("any", "no_stream", "stream_exists") are the client's own constants. */
export const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision =>
  typeof expected === "number" ? BigInt(expected) : expected

/**
 * The client's "current revision" as ours. It is `"no_stream"` for an absent stream on the
 * append paths, but a `WrongExpectedVersionError` built from a gRPC status (servers answering an
 * append with an RPC exception, 20.x) carries the server's `-1` as `-1n`: that is no stream too.
 */
export const toActualRevision = (current: CurrentRevision | number): ActualRevision =>
  current === "no_stream" || current < 0 ? "no_stream" : Number(current)

/** ESDB's conflict as ours, whatever form the client gave its actual revision in. */
export const toWrongExpectedVersion = (
  stream: string,
  expected: ExpectedRevision,
  error: WrongExpectedVersionError
) => new WrongExpectedVersion({ stream, expected, actual: toActualRevision(error.actualVersion) })

/** A stored ESDB event as ours, or why it is not one of ours (binary, or metadata not JSON). */
export const toRecorded = (event: EsdbRecordedEvent): RecordedEvent | MalformedEvent => {
  const malformed = (reason: string) =>
    new MalformedEvent({ stream: event.streamId, revision: Number(event.revision), type: event.type, reason })
  if (!event.isJson) return malformed("payload is not JSON")
  const metadata = event.metadata
  if (
    typeof metadata !== "object" ||
    metadata === null ||
    metadata instanceof Uint8Array ||
    Array.isArray(metadata)
  )
    return malformed("metadata is not a JSON object")
  if (isBeyondNumber(event.position))
    return malformed(`global position ${event.position?.commit} has no exact number (above 2^53 - 1)`)
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: metadata as EventMetadata,
    streamId: event.streamId,
    revision: Number(event.revision),
    // Stream reads carry the $all position on servers from 22.6 on; -1 when the server omits it.
    position: knownPosition(event.position)
  }
}

export const isOurs = (event: EsdbRecordedEvent | undefined): event is EsdbRecordedEvent =>
  event !== undefined && !event.type.startsWith("$") && !event.streamId.startsWith(CHECKPOINT_STREAM_PREFIX)

/** ESDB returns event ids in lower case (the server's `Guid.ToString()`): compare them so. */
export const endsWithIds = (
  stored: ReadonlyArray<{ readonly id: string }>,
  events: ReadonlyArray<EventData>
) =>
  isRetryOf(
    stored.map((event) => ({ id: event.id.toLowerCase() })),
    events.map((event) => ({ ...event, id: event.id.toLowerCase() }))
  )

/**
 * Where the next `$all` page starts, or none when this one was the last. Pages are read from
 * `after` inclusively, so a full page always moves past `after` only if it holds 2 events or more;
 * a page whose raw events all sit at `after` (legacy transactions) ends the read rather than loop.
 */
export const nextPage = (
  after: number,
  raw: number,
  pageSize: number,
  lastRaw: number | undefined
): Option.Option<number> =>
  raw < pageSize || lastRaw === undefined || lastRaw <= after ? Option.none() : Option.some(lastRaw)

/**
 * A catch-up subscription that survives drops: `subscribeFrom(after)` opens one subscription
 * delivering events after `after` (it may repeat the event at `after`); when it fails with
 * `EventStoreUnavailable` (connection lost, server restart, or the server ending it) it is
 * reopened after `backoff` from the last delivered position. Duplicates are dropped by position,
 * so the output is strictly increasing with no gaps. Other failures (a malformed event, access
 * denied: `EventStoreAccessDenied`, logged as an error) end it.
 */
export const resubscribing = <R>(
  subscribeFrom: (after: number) => Stream.Stream<RecordedEvent, ReadError, R>,
  from: number,
  backoff: Schedule.Schedule<unknown, ReadError>
): Stream.Stream<RecordedEvent, ReadError, R> =>
  Stream.suspend(() => {
    // Where this subscriber got to: a dropped subscription resumes from here.
    let last = from
    return Stream.suspend(() => subscribeFrom(last)).pipe(
      Stream.filter((event) => event.position > last),
      Stream.tap((event) =>
        Effect.sync(() => {
          last = event.position
        })
      ),
      Stream.tapError((error) =>
        isRetryable(error)
          ? Effect.logWarning(`$all subscription dropped at ${last}, resubscribing: ${error.message}`)
          : error instanceof EventStoreAccessDenied
            ? Effect.logError(`$all subscription failed at ${last}, not retrying: ${error.message}`)
            : Effect.void
      ),
      Stream.retry(Schedule.whileInput(backoff, isRetryable))
    )
  })

/** Reads a whole (finite) ESDB read stream into an array, decoding as it goes. */
export const collect = (
  read: () => AsyncIterable<{ event?: EsdbRecordedEvent | undefined }>,
  keep: (event: EsdbRecordedEvent) => boolean
) =>
  Effect.flatMap(
    Effect.tryPromise({
      try: async () => {
        const out: Array<EsdbRecordedEvent> = []
        let raw = 0
        let last: EsdbRecordedEvent | undefined
        try {
          for await (const resolved of read()) {
            raw++
            last = resolved.event ?? last
            if (resolved.event !== undefined && keep(resolved.event)) out.push(resolved.event)
          }
        } catch (error) {
          // A stream that does not exist (or was soft-deleted) reads as empty, as the port says.
          if (!(error instanceof esdbClient().StreamNotFoundError)) throw error
        }
        return { out, raw, last }
      },
      catch: fromClientError
    }),
    ({ out, raw, last }) => {
      const events: Array<RecordedEvent> = []
      for (const event of out) {
        const recorded = toRecorded(event)
        if (recorded instanceof MalformedEvent) return Effect.fail<ReadError>(recorded)
        events.push(recorded)
      }
      return Effect.succeed({ events, raw, last })
    }
  )
