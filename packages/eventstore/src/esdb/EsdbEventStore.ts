import type { EventStoreDBClient, JSONType } from "@eventstore/db-client"
import {
  CheckpointStore,
  type CheckpointStoreShape,
  type EventData,
  EventStore,
  type EventStoreShape,
  EventStoreUnavailable,
  MalformedEvent,
  type ReadError,
  type RecordedEvent
} from "@spaces/domain"
import { Chunk, Context, type Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { appending } from "./appending.js"
import { esdbClient } from "./client.js"
import { toNumber, toReadPosition } from "./positions.js"
import {
  CHECKPOINT_STREAM_PREFIX,
  collect,
  EventStoreAccessDenied,
  fromClientError,
  isOurs,
  nextPage,
  resubscribing,
  toRecorded,
  toExpectedRevision,
  toWrongExpectedVersion
} from "./records.js"

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

export { CHECKPOINT_STREAM_PREFIX, EventStoreAccessDenied }

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
            direction: "forwards"
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
          () => client.readStream(stream, { fromRevision: "end", direction: "backwards", maxCount: count }),
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
            client.readStream(stream, { fromRevision: BigInt(revision), direction: "forwards", maxCount: 1 }),
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
              esdbClient().jsonEvent({
                id: event.id,
                type: event.type,
                data: event.data as JSONType,
                metadata: event.metadata
              })
            ),
            { expectedRevision: toExpectedRevision(expected) }
          ),
        catch: (error) =>
          error instanceof esdbClient().WrongExpectedVersionError
            ? toWrongExpectedVersion(stream, expected, error)
            : fromClientError(error)
      })
  })

  /** One page of $all after `after` (exclusive): our events, and where the raw page ended. */
  const readPage = (after: number) =>
    Effect.map(
      collect(
        () =>
          client.readAll({ fromPosition: toReadPosition(after), maxCount: pageSize, direction: "forwards" }),
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
        client.subscribeToAll({
          fromPosition: toReadPosition(after),
          filter: esdbClient().excludeSystemEvents()
        })
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
            esdbClient().jsonEvent({ type: "CheckpointSaved", data: { position, ...pair } })
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
        try: () => esdbClient().EventStoreDBClient.connectionString(options.connectionString),
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
