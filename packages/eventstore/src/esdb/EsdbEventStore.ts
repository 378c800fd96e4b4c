import {
  AccessDeniedError,
  ANY,
  type AppendExpectedRevision,
  type AppendResult as EsdbAppendResult,
  BACKWARDS,
  type CurrentRevision,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  type JSONType,
  jsonEvent,
  NO_STREAM,
  type RecordedEvent as EsdbRecordedEvent,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError
} from "@eventstore/db-client"
import {
  type ActualRevision,
  type AppendResult,
  CheckpointStore,
  type CheckpointStoreShape,
  checkExpected,
  type EventData,
  type EventMetadata,
  EventStore,
  type EventStoreShape,
  EventStoreUnavailable,
  type ExpectedRevision,
  isRetryOf,
  MalformedEvent,
  type ReadError,
  type RecordedEvent,
  WrongExpectedVersion
} from "@spaces/domain"
import { Chunk, Context, type Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { isBeyondNumber, knownPosition, toNumber, toReadPosition } from "./positions.js"

export interface EsdbEventStoreOptions {
  /**
   * e.g. `esdb://localhost:2113?tls=false` (an insecure node). Reading `$all` needs an admin (or
   * `$ops`) user on a secure node: `esdb://admin:changeit@host:2113`. Any of the client's
   * connection-string options may be given; `throwOnAppendFailure=false` is handled as well.
   */
  readonly connectionString: string
  /** Events per `$all` read page; default 4096, at least 2 (a page re-reads its start event). */
  readonly pageSize?: number
  /** First delay before resubscribing after a dropped subscription (doubling up to `maxBackoff`). */
  readonly initialBackoff?: Duration.DurationInput
  readonly maxBackoff?: Duration.DurationInput
}

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
  return cause instanceof AccessDeniedError
    ? new EventStoreAccessDenied({
        reason:
          `access denied by EventStoreDB (${detail || "no details"}): check the connection string's ` +
          "credentials; reading $all needs an admin or $ops user on a secure node"
      })
    : new EventStoreUnavailable({ reason: detail })
}

export const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === "any"
    ? ANY
    : expected === "no_stream"
      ? NO_STREAM
      : expected === "stream_exists"
        ? STREAM_EXISTS
        : BigInt(expected)

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

const isOurs = (event: EsdbRecordedEvent | undefined): event is EsdbRecordedEvent =>
  event !== undefined && !event.type.startsWith("$") && !event.streamId.startsWith(CHECKPOINT_STREAM_PREFIX)

/** ESDB returns event ids in lower case (the server's `Guid.ToString()`): compare them so. */
const endsWithIds = (stored: ReadonlyArray<{ readonly id: string }>, events: ReadonlyArray<EventData>) =>
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
const collect = (
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
          if (!(error instanceof StreamNotFoundError)) throw error
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

/**
 * What the client's append result calls for. With `throwOnAppendFailure=false` the client reports
 * a refusal as `{success: false}` instead of throwing; an idempotent write (ESDB dropped the
 * re-sent ids) succeeds without a position.
 */
export type AppendOutcome =
  | { readonly _tag: "Refused" }
  | { readonly _tag: "Written"; readonly result: AppendResult }
  | { readonly _tag: "PositionAt"; readonly nextRevision: number }

export const appendOutcome = (result: EsdbAppendResult): AppendOutcome => {
  if (!result.success) return { _tag: "Refused" }
  const nextRevision = Number(result.nextExpectedRevision)
  const position = knownPosition(result.position)
  return position > 0
    ? { _tag: "Written", result: { nextRevision, position } }
    : { _tag: "PositionAt", nextRevision }
}

/**
 * The conflict for a refusal reported as a result, from the stream's last event read afresh: the
 * result's own revision can't be trusted (the client's batch append reports `BigInt(true)`).
 */
export const refusal = (stream: string, expected: ExpectedRevision, last: RecordedEvent | undefined) =>
  new WrongExpectedVersion({ stream, expected, actual: toActualRevision(last?.revision ?? -1) })

/**
 * A write that came back without a position takes it from the batch's last event (which the
 * server names by revision), not from the stream's end (it may have moved on); -1 if it is gone.
 */
export const positionedAt = (nextRevision: number, event: RecordedEvent | undefined): AppendResult => ({
  nextRevision,
  position: event?.position ?? -1
})

/** The original result of an append whose events are the stream's last ones (`stored`), if they are. */
export const originalAppend = (
  stored: ReadonlyArray<RecordedEvent>,
  events: ReadonlyArray<EventData>
): Option.Option<AppendResult> => {
  const last = stored.at(-1)
  return last !== undefined && endsWithIds(stored, events)
    ? Option.some({ nextRevision: last.revision, position: last.position })
    : Option.none()
}

/**
 * With `any` (and `stream_exists`, which the server checks like `any`) ESDB's idempotency is best
 * effort: it looks the ids up in a bounded cache and writes duplicates on a miss. These appends
 * check the stream's end first so that a retry is a no-op, as the port promises.
 */
export const checksEndFirst = (expected: ExpectedRevision): boolean =>
  expected === "any" || expected === "stream_exists"

/** What an append needs from the server: reads of a stream, and the client's append call. */
export interface AppendSteps {
  /** The last `count` events of a stream, oldest first (empty when it is absent). */
  readonly tail: (
    stream: string,
    count: number
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, EventStoreUnavailable>
  /** The event at `revision` of a stream, if any. */
  readonly eventAt: (
    stream: string,
    revision: number
  ) => Effect.Effect<RecordedEvent | undefined, EventStoreUnavailable>
  /** The client's append; a refusal it throws (its default) fails as `WrongExpectedVersion`. */
  readonly write: (
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ) => Effect.Effect<EsdbAppendResult, WrongExpectedVersion | EventStoreUnavailable>
}

/** The port's append over those steps: conflicts, idempotent retries and positions decided here. */
export const appending =
  (steps: AppendSteps): EventStoreShape["append"] =>
  (stream, events, expected) => {
    const alreadyAppended = () =>
      Effect.map(steps.tail(stream, events.length), (stored) => originalAppend(stored, events))

    const written = (
      result: EsdbAppendResult
    ): Effect.Effect<AppendResult, WrongExpectedVersion | EventStoreUnavailable> => {
      const outcome = appendOutcome(result)
      switch (outcome._tag) {
        case "Written":
          return Effect.succeed(outcome.result)
        case "PositionAt":
          return Effect.map(steps.eventAt(stream, outcome.nextRevision), (event) =>
            positionedAt(outcome.nextRevision, event)
          )
        case "Refused":
          return Effect.flatMap(steps.tail(stream, 1), (last) =>
            Effect.fail(refusal(stream, expected, last[0]))
          )
      }
    }

    const appendNow = () =>
      steps.write(stream, events, expected).pipe(
        Effect.flatMap(written),
        // ESDB already treats re-sends with an exact (or no_stream) expectation as idempotent; for
        // those it refuses (a stale expected revision), apply the port's rule: the stream ends with
        // these ids → the original result.
        Effect.catchTag("WrongExpectedVersion", (conflict) =>
          Effect.flatMap(alreadyAppended(), (original) =>
            Option.match(original, { onNone: () => Effect.fail(conflict), onSome: Effect.succeed })
          )
        )
      )

    if (events.length === 0)
      return Effect.flatMap(steps.tail(stream, 1), (last) => {
        const revision = last[0]?.revision ?? -1
        const conflict = checkExpected(stream, expected, revision)
        return conflict
          ? Effect.fail(conflict)
          : Effect.succeed<AppendResult>({
              nextRevision: revision,
              position: Math.max(last[0]?.position ?? 0, 0)
            })
      })
    if (checksEndFirst(expected))
      return Effect.flatMap(alreadyAppended(), (original) =>
        Option.match(original, { onNone: appendNow, onSome: Effect.succeed })
      )
    return appendNow()
  }

/** The EventStoreDB adapter over an open client. The client's lifetime is the caller's. */
export const makeEsdbEventStore = (
  client: EventStoreDBClient,
  options: Omit<EsdbEventStoreOptions, "connectionString"> = {}
): EventStoreShape & { readonly checkpoints: CheckpointStoreShape } => {
  const pageSize = Math.max(2, Math.floor(options.pageSize ?? 4096))
  const backoff = Schedule.exponential(options.initialBackoff ?? "100 millis").pipe(
    Schedule.union(Schedule.spaced(options.maxBackoff ?? "5 seconds"))
  )

  const readStream: EventStoreShape["readStream"] = (stream, readOptions) =>
    Effect.map(
      collect(
        () =>
          client.readStream(stream, {
            fromRevision: BigInt(readOptions?.fromRevision ?? 0),
            direction: FORWARDS
          }),
        () => true
      ),
      ({ events }) => events
    )

  /** The last `count` events of a stream, oldest first. */
  const tail = (stream: string, count: number) =>
    Effect.mapError(
      Effect.map(
        collect(
          () => client.readStream(stream, { fromRevision: "end", direction: BACKWARDS, maxCount: count }),
          () => true
        ),
        ({ events }) => events.reverse()
      ),
      unavailableFromRead
    )

  /** The event at `revision` of a stream, if any. */
  const eventAt = (stream: string, revision: number) =>
    Effect.mapError(
      Effect.map(
        collect(
          () =>
            client.readStream(stream, { fromRevision: BigInt(revision), direction: FORWARDS, maxCount: 1 }),
          () => true
        ),
        ({ events }) => events[0]
      ),
      unavailableFromRead
    )

  const append = appending({
    tail,
    eventAt,
    write: (stream, events, expected) =>
      Effect.tryPromise({
        try: () =>
          client.appendToStream(
            stream,
            events.map((event: EventData) =>
              // The event's own id: ESDB drops a re-sent event with a known id (idempotent retry).
              jsonEvent({
                id: event.id,
                type: event.type,
                data: event.data as JSONType,
                metadata: event.metadata
              })
            ),
            { expectedRevision: toExpectedRevision(expected) }
          ),
        catch: (error) =>
          error instanceof WrongExpectedVersionError
            ? toWrongExpectedVersion(stream, expected, error)
            : fromClientError(error)
      })
  })

  /** One page of $all after `after` (exclusive): our events, and where the raw page ended. */
  const readPage = (after: number) =>
    Effect.map(
      collect(
        () =>
          client.readAll({ fromPosition: toReadPosition(after), maxCount: pageSize, direction: FORWARDS }),
        // $all reads from a position inclusively: drop the event at `after` itself.
        (event) => isOurs(event) && event.position !== undefined && event.position.commit > BigInt(after)
      ),
      ({ events, raw, last }) => ({
        events,
        next: nextPage(
          after,
          raw,
          pageSize,
          last?.position === undefined ? undefined : toNumber(last.position)
        )
      })
    )

  const readAll: EventStoreShape["readAll"] = (from) =>
    Stream.paginateChunkEffect(from, (after) =>
      Effect.map(readPage(after), ({ events, next }) => [Chunk.unsafeFromArray(events), next])
    )

  /** One catch-up subscription from `after`; it fails when the connection drops or the server ends it. */
  const subscribeOnce = (after: number): Stream.Stream<RecordedEvent, ReadError> =>
    Stream.acquireRelease(
      Effect.sync(() =>
        client.subscribeToAll({ fromPosition: toReadPosition(after), filter: excludeSystemEvents() })
      ),
      // Cancels the gRPC call; ending the iteration alone would leave it open.
      (subscription) => Effect.promise(() => subscription.unsubscribe().catch(() => undefined))
    ).pipe(
      // Errors of the call (UNAVAILABLE when the server goes away, CANCELLED when it ends the
      // subscription) reach the iteration as the subscription's "error" event.
      Stream.flatMap((subscription) => Stream.fromAsyncIterable(subscription, fromClientError)),
      Stream.concat(Stream.fail(new EventStoreUnavailable({ reason: "subscription ended by the server" }))),
      Stream.filterMap((resolved) => Option.fromNullable(resolved.event)),
      Stream.filter(isOurs),
      Stream.mapEffect((event) => {
        const recorded = toRecorded(event)
        return recorded instanceof MalformedEvent ? Effect.fail(recorded) : Effect.succeed(recorded)
      })
    )

  const subscribeAll: EventStoreShape["subscribeAll"] = (from) => resubscribing(subscribeOnce, from, backoff)

  const checkpointStream = (name: string) => `${CHECKPOINT_STREAM_PREFIX}${name}`
  const trimmed = new Set<string>()

  const checkpoints: CheckpointStoreShape = {
    load: (name) =>
      Effect.map(tail(checkpointStream(name), 1), (last) => {
        const data = last[0]?.data as { position?: unknown } | undefined
        return typeof data?.position === "number" ? data.position : 0
      }),
    save: (name, position) =>
      Effect.tryPromise({
        try: async () => {
          const stream = checkpointStream(name)
          // Only the latest checkpoint matters: let ESDB scavenge older ones.
          if (!trimmed.has(stream)) {
            await client.setStreamMetadata(stream, { maxCount: 5 })
            trimmed.add(stream)
          }
          // ESDB's own position pair is kept beside our number (commit = prepare, see positions.ts).
          const at = toReadPosition(position)
          const pair =
            at === "start" || at === "end"
              ? { commit: "0", prepare: "0" }
              : {
                  commit: at.commit.toString(),
                  prepare: at.prepare.toString()
                }
          await client.appendToStream(
            stream,
            jsonEvent({ type: "CheckpointSaved", data: { position, ...pair } })
          )
        },
        catch: fromClientError
      })
  }

  return { append, readStream, readAll, subscribeAll, checkpoints }
}

const unavailableFromRead = (error: ReadError): EventStoreUnavailable =>
  error._tag === "EventStoreUnavailable" ? error : new EventStoreUnavailable({ reason: error.message })

/** Connects, and disposes of the client when the scope closes. */
export const scopedEsdbEventStore = (options: EsdbEventStoreOptions) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.try({
        try: () => EventStoreDBClient.connectionString(options.connectionString),
        catch: fromClientError
      }),
      (client) => Effect.promise(() => client.dispose().catch(() => undefined))
    ),
    (client) => makeEsdbEventStore(client, options)
  )

export const EsdbEventStore = {
  /** `EventStore` and `CheckpointStore` on one EventStoreDB connection, disposed with the layer. */
  layer: (options: EsdbEventStoreOptions): Layer.Layer<EventStore | CheckpointStore, EventStoreUnavailable> =>
    Layer.scopedContext(
      Effect.map(scopedEsdbEventStore(options), (store) =>
        Context.make(EventStore, store).pipe(Context.add(CheckpointStore, store.checkpoints))
      )
    )
}
