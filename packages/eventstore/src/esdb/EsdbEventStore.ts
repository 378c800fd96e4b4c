import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
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
import { knownPosition, toNumber, toReadPosition } from "./positions.js"

export interface EsdbEventStoreOptions {
  /** e.g. `esdb://localhost:2113?tls=false` */
  readonly connectionString: string
  /** Events per `$all` read page; default 4096. */
  readonly pageSize?: number
  /** First delay before resubscribing after a dropped subscription (doubling up to `maxBackoff`). */
  readonly initialBackoff?: Duration.DurationInput
  readonly maxBackoff?: Duration.DurationInput
}

/** Checkpoints are stored in ESDB streams under this prefix; reads of the log leave them out. */
export const CHECKPOINT_STREAM_PREFIX = "spaces-checkpoint-"

const unavailable = (cause: unknown) =>
  new EventStoreUnavailable({ reason: cause instanceof Error ? cause.message : String(cause) })

export const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === "any"
    ? ANY
    : expected === "no_stream"
      ? NO_STREAM
      : expected === "stream_exists"
        ? STREAM_EXISTS
        : BigInt(expected)

/** ESDB's conflict as ours; its `actualVersion` is `"no_stream"` when the stream does not exist. */
export const toWrongExpectedVersion = (
  stream: string,
  expected: ExpectedRevision,
  error: WrongExpectedVersionError
) =>
  new WrongExpectedVersion({
    stream,
    expected,
    actual: error.actualVersion === "no_stream" ? "no_stream" : Number(error.actualVersion)
  })

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
          if (!(error instanceof StreamNotFoundError)) throw error
        }
        return { out, raw, last }
      },
      catch: unavailable
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

/** The EventStoreDB adapter over an open client. The client's lifetime is the caller's. */
export const makeEsdbEventStore = (
  client: EventStoreDBClient,
  options: Omit<EsdbEventStoreOptions, "connectionString"> = {}
): EventStoreShape & { readonly checkpoints: CheckpointStoreShape } => {
  const pageSize = options.pageSize ?? 4096
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
    Effect.map(
      collect(
        () => client.readStream(stream, { fromRevision: "end", direction: BACKWARDS, maxCount: count }),
        () => true
      ),
      ({ events }) => events.reverse()
    )

  const append: EventStoreShape["append"] = (stream, events, expected) => {
    if (events.length === 0)
      return Effect.flatMap(Effect.mapError(tail(stream, 1), unavailableFromRead), (last) => {
        const revision = last[0]?.revision ?? -1
        const conflict = checkExpected(stream, expected, revision)
        return conflict
          ? Effect.fail(conflict)
          : Effect.succeed<AppendResult>({
              nextRevision: revision,
              position: Math.max(last[0]?.position ?? 0, 0)
            })
      })
    return Effect.tryPromise({
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
          : unavailable(error)
    }).pipe(
      Effect.flatMap((result) => {
        const nextRevision = Number(result.nextExpectedRevision)
        const position = knownPosition(result.position)
        if (position >= 0) return Effect.succeed<AppendResult>({ nextRevision, position })
        // An idempotent write may come back without a position: take it from the stream.
        return Effect.map(Effect.mapError(tail(stream, 1), unavailableFromRead), (last) => ({
          nextRevision,
          position: last[0]?.position ?? -1
        }))
      }),
      // ESDB already treats most re-sends as idempotent; for those it refuses (a stale expected
      // revision), apply the port's rule: the stream ends with these ids → the original result.
      Effect.catchTag("WrongExpectedVersion", (conflict) =>
        Effect.flatMap(Effect.mapError(tail(stream, events.length), unavailableFromRead), (stored) => {
          const last = stored.at(-1)
          return last !== undefined && isRetryOf(stored, events)
            ? Effect.succeed<AppendResult>({ nextRevision: last.revision, position: last.position })
            : Effect.fail(conflict)
        })
      )
    )
  }

  /** One page of $all after `after` (exclusive): our events, and where the raw page ended. */
  const readPage = (after: number) =>
    Effect.map(
      collect(
        () =>
          client.readAll({ fromPosition: toReadPosition(after), maxCount: pageSize, direction: FORWARDS }),
        // $all reads from a position inclusively: drop the event at `after` itself.
        (event) => isOurs(event) && event.position !== undefined && toNumber(event.position) > after
      ),
      ({ events, raw, last }) => ({
        events,
        end: raw < pageSize,
        next: last?.position === undefined ? after : Math.max(after, toNumber(last.position))
      })
    )

  const readAll: EventStoreShape["readAll"] = (from) =>
    Stream.paginateChunkEffect(from, (after) =>
      Effect.map(readPage(after), ({ events, end, next }) => [
        Chunk.unsafeFromArray(events),
        end || next === after ? Option.none<number>() : Option.some(next)
      ])
    )

  /** One catch-up subscription from `after`; it fails when the connection drops or the server ends it. */
  const subscribeOnce = (after: number): Stream.Stream<RecordedEvent, ReadError> =>
    Stream.acquireRelease(
      Effect.sync(() =>
        client.subscribeToAll({ fromPosition: toReadPosition(after), filter: excludeSystemEvents() })
      ),
      (subscription) => Effect.promise(() => subscription.unsubscribe().catch(() => undefined))
    ).pipe(
      Stream.flatMap((subscription) => Stream.fromAsyncIterable(subscription, unavailable)),
      Stream.concat(Stream.fail(new EventStoreUnavailable({ reason: "subscription ended by the server" }))),
      Stream.filterMap((resolved) => Option.fromNullable(resolved.event)),
      Stream.filter(isOurs),
      Stream.mapEffect((event) => {
        const recorded = toRecorded(event)
        return recorded instanceof MalformedEvent ? Effect.fail(recorded) : Effect.succeed(recorded)
      })
    )

  const subscribeAll: EventStoreShape["subscribeAll"] = (from) =>
    Stream.suspend(() => {
      // Where this subscriber got to: a dropped subscription resumes from here, with backoff.
      let last = from
      return Stream.suspend(() => subscribeOnce(last)).pipe(
        Stream.filter((event) => event.position > last),
        Stream.tap((event) =>
          Effect.sync(() => {
            last = event.position
          })
        ),
        Stream.tapError((error) =>
          error._tag === "EventStoreUnavailable"
            ? Effect.logWarning(`$all subscription dropped at ${last}, resubscribing: ${error.reason}`)
            : Effect.void
        ),
        Stream.retry(
          Schedule.whileInput(backoff, (error: ReadError) => error._tag === "EventStoreUnavailable")
        )
      )
    })

  const checkpointStream = (name: string) => `${CHECKPOINT_STREAM_PREFIX}${name}`
  const trimmed = new Set<string>()

  const checkpoints: CheckpointStoreShape = {
    load: (name) =>
      Effect.map(Effect.mapError(tail(checkpointStream(name), 1), unavailableFromRead), (last) => {
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
        catch: unavailable
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
        catch: unavailable
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
