import { Effect, Either, ParseResult, type Schema } from "effect"
import type { Decider } from "../Decider.js"
import type {
  AppendResult,
  EventMetadata,
  EventStoreShape,
  ReadError,
  RecordedEvent,
  StreamAppend
} from "../eventstore/EventStore.js"
import {
  type EventStoreUnavailable,
  MalformedEvent,
  type WrongExpectedVersion
} from "../eventstore/EventStoreError.js"

/** What one accepted command wrote: kept per idempotency key so a retry gets the same answer. */
export interface Outcome<Event> {
  readonly events: ReadonlyArray<Event>
  readonly revision: number
  readonly position: number
}

/** An outcome as indexed by its idempotency key, with the fingerprint of the command that caused it. */
export interface KeyedOutcome<Event> extends Outcome<Event> {
  /** Absent on events recorded before commands were fingerprinted. */
  readonly commandDigest?: string
}

export interface Loaded<State, Event> {
  readonly state: State
  /** Revision of the stream's last event; -1 when the stream does not exist. */
  readonly revision: number
  readonly position: number
  /** The latest keyed outcomes (at most `maxOutcomesPerStream`; older ones are looked up in the stream). */
  readonly outcomes: ReadonlyMap<string, KeyedOutcome<Event>>
  /** Highest revision of an outcome dropped from `outcomes`; -1 when none was. */
  readonly evictedThrough: number
}

interface Options<Event extends { readonly _tag: string }, Encoded, State> {
  readonly schema: Schema.Schema<Event, Encoded>
  /** The aggregate whose streams these are: its `evolve` folds them, from its `initialState`. */
  readonly decider: Pick<Decider<unknown, Event, State, unknown, unknown>, "evolve" | "initialState">
  /** Streams whose folded state is kept between commands (least recently used go first). */
  readonly cacheSize?: number
  /** Keyed outcomes kept in memory per stream; a key older than these is found by reading the stream. */
  readonly maxOutcomesPerStream?: number
}

/** The first few problems, each with its path: a union's full type would drown the one that matters. */
const conciseReason = (issue: ParseResult.ParseIssue): string =>
  ParseResult.ArrayFormatter.formatIssueSync(issue)
    .slice(0, 3)
    .map(({ path, message }) => `${path.length === 0 ? "(root)" : path.join(".")}: ${message.slice(0, 200)}`)
    .join("; ")

/** Decodes a stored event with its schema; a payload that doesn't fit names the stream and revision. */
export const decodeRecorded =
  <Event, Encoded>(schema: Schema.Schema<Event, Encoded>) =>
  (recorded: RecordedEvent): Either.Either<Event, MalformedEvent> =>
    Either.mapLeft(
      ParseResult.decodeUnknownEither(schema)(recorded.data),
      (issue) =>
        new MalformedEvent({
          stream: recorded.streamId,
          revision: recorded.revision,
          type: recorded.type,
          reason: conciseReason(issue)
        })
    )

/**
 * Loads aggregates by folding their streams, and appends their events. Folded states are cached
 * and brought up to date by reading only the events after the cached revision, so a command on a
 * long-lived Space costs its new events, not its whole history.
 */
export const makeAggregateRepository = <Event extends { readonly _tag: string }, Encoded, State>(
  store: EventStoreShape,
  options: Options<Event, Encoded, State>
) => {
  const { schema } = options
  const { evolve, initialState } = options.decider
  const cacheSize = options.cacheSize ?? 10_000
  const maxOutcomes = Math.max(1, options.maxOutcomesPerStream ?? 1_000)
  const cache = new Map<string, Loaded<State, Event>>()
  const decode = decodeRecorded(schema)
  const encode = (event: Event) => ParseResult.encodeSync(schema)(event)
  const empty: Loaded<State, Event> = {
    state: initialState,
    revision: -1,
    position: 0,
    outcomes: new Map(),
    evictedThrough: -1
  }

  const remember = (stream: string, loaded: Loaded<State, Event>) => {
    cache.delete(stream)
    cache.set(stream, loaded)
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!)
    return loaded
  }

  /** Folds decoded events into a loaded state, indexing outcomes by idempotency key. */
  const foldDecoded = (
    from: Loaded<State, Event>,
    entries: ReadonlyArray<{ readonly event: Event; readonly record: RecordedEvent }>
  ): Loaded<State, Event> => {
    let { state, revision, position, evictedThrough } = from
    let outcomes = from.outcomes as Map<string, KeyedOutcome<Event>>
    for (const { event, record } of entries) {
      state = evolve(state, event)
      revision = record.revision
      position = record.position
      const key = record.metadata.idempotencyKey
      if (key !== undefined) {
        if (outcomes === from.outcomes) outcomes = new Map(outcomes)
        const previous = outcomes.get(key)
        // Every event of one append carries the same metadata: the first one's digest stands.
        const digest = previous === undefined ? record.metadata.commandDigest : previous.commandDigest
        outcomes.set(key, {
          events: previous === undefined ? [event] : [...previous.events, event],
          revision,
          position,
          ...(digest === undefined ? {} : { commandDigest: digest })
        })
        // Oldest first out (insertion order); a retry of it reads the stream (`outcomeOf`).
        if (outcomes.size > maxOutcomes) {
          const [oldestKey, oldest] = outcomes.entries().next().value!
          outcomes.delete(oldestKey)
          evictedThrough = Math.max(evictedThrough, oldest.revision)
        }
      }
    }
    return { state, revision, position, outcomes, evictedThrough }
  }

  const foldInto = (
    from: Loaded<State, Event>,
    recorded: ReadonlyArray<RecordedEvent>
  ): Either.Either<Loaded<State, Event>, MalformedEvent> => {
    const entries: Array<{ readonly event: Event; readonly record: RecordedEvent }> = []
    for (const record of recorded) {
      const decoded = decode(record)
      if (Either.isLeft(decoded)) return Either.left(decoded.left)
      entries.push({ event: decoded.right, record })
    }
    return Either.right(foldDecoded(from, entries))
  }

  const load = (stream: string): Effect.Effect<Loaded<State, Event>, ReadError> =>
    Effect.gen(function* () {
      const cached = cache.get(stream) ?? empty
      const newer = yield* store.readStream(stream, { fromRevision: cached.revision + 1 })
      if (newer.length === 0) return cached
      return remember(stream, yield* foldInto(cached, newer))
    })

  /** The events as the store takes them: each with a new id, its encoded payload and `metadata`. */
  const toAppend = (
    stream: string,
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    metadata: EventMetadata,
    newId: Effect.Effect<string>
  ): Effect.Effect<StreamAppend> =>
    Effect.map(
      Effect.forEach(events, (event) =>
        Effect.map(newId, (id) => ({ id, type: event._tag, data: encode(event), metadata }))
      ),
      (data) => ({ stream, events: data, expected: from.revision === -1 ? "no_stream" : from.revision })
    )

  /** Our own committed append extends the cached state, if nobody wrote in between; its outcome. */
  const committed = (
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    written: StreamAppend,
    result: AppendResult
  ): Outcome<Event> => {
    const { stream } = written
    const first = result.nextRevision - events.length + 1
    // Positions inside a batch are only used for the last event: stores need not number a batch
    // contiguously.
    if ((cache.get(stream) ?? empty) === from)
      remember(
        stream,
        foldDecoded(
          from,
          events.map((event, i) => ({
            event,
            record: {
              ...written.events[i]!,
              streamId: stream,
              revision: first + i,
              position: result.position - events.length + 1 + i
            }
          }))
        )
      )
    return { events, revision: result.nextRevision, position: result.position }
  }

  const append = (
    stream: string,
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    metadata: EventMetadata,
    newId: Effect.Effect<string>
  ): Effect.Effect<Outcome<Event>, WrongExpectedVersion | EventStoreUnavailable> =>
    Effect.flatMap(toAppend(stream, from, events, metadata, newId), (written) =>
      Effect.map(store.append(stream, written.events, written.expected), (result) =>
        committed(from, events, written, result)
      )
    )

  const isCurrent = (stream: string, loaded: Loaded<State, Event>) => cache.get(stream) === loaded

  /**
   * The outcome recorded under `key`: from memory, or, when older outcomes were dropped, from the
   * events' own metadata in the stream (so a late retry answers as the first time did).
   */
  const outcomeOf = (
    stream: string,
    loaded: Loaded<State, Event>,
    key: string
  ): Effect.Effect<KeyedOutcome<Event> | undefined, ReadError> =>
    Effect.gen(function* () {
      const kept = loaded.outcomes.get(key)
      if (kept !== undefined || loaded.evictedThrough < 0) return kept
      const recorded = yield* store.readStream(stream)
      const keyed = recorded.filter(
        (r) => r.revision <= loaded.evictedThrough && r.metadata.idempotencyKey === key
      )
      if (keyed.length === 0) return undefined
      const events: Array<Event> = []
      for (const record of keyed) events.push(yield* decode(record))
      const last = keyed[keyed.length - 1]!
      const digest = keyed[0]!.metadata.commandDigest
      return {
        events,
        revision: last.revision,
        position: last.position,
        ...(digest === undefined ? {} : { commandDigest: digest })
      }
    })

  return { load, append, toAppend, committed, isCurrent, outcomeOf } satisfies AggregateRepository<
    Event,
    State
  >
}

export interface AggregateRepository<Event, State> {
  readonly load: (stream: string) => Effect.Effect<Loaded<State, Event>, ReadError>
  readonly append: (
    stream: string,
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    metadata: EventMetadata,
    newId: Effect.Effect<string>
  ) => Effect.Effect<Outcome<Event>, WrongExpectedVersion | EventStoreUnavailable>
  /** The events of an append as the store takes them (ids, encoded payloads, expected revision). */
  readonly toAppend: (
    stream: string,
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    metadata: EventMetadata,
    newId: Effect.Effect<string>
  ) => Effect.Effect<StreamAppend>
  /** After `toAppend`'s append committed (alone or with other streams'): the cache and the outcome. */
  readonly committed: (
    from: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    written: StreamAppend,
    result: AppendResult
  ) => Outcome<Event>
  /**
   * Whether `loaded` is still the cached state of `stream`: nothing this process wrote or read
   * since has moved it (another process's write shows only at the next `load`, or as a conflict).
   */
  readonly isCurrent: (stream: string, loaded: Loaded<State, Event>) => boolean
  /** The outcome of the command recorded under an idempotency key, if any (see `maxOutcomesPerStream`). */
  readonly outcomeOf: (
    stream: string,
    loaded: Loaded<State, Event>,
    key: string
  ) => Effect.Effect<KeyedOutcome<Event> | undefined, ReadError>
}
