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
import { makeDroppedKeys } from "./droppedKeys.js"

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

/**
 * A stream's keyed outcomes in memory, shared by the states loaded from it and extended in place
 * (copying a thousand entries per command was the command path's largest cost). It only ever
 * learns committed outcomes or forgets old ones (raising `evictedThrough`), so an older state that
 * sees it still answers a key exactly: from memory, or from the stream below `evictedThrough`.
 */
export interface OutcomeIndex<Event> {
  readonly outcomes: Map<string, KeyedOutcome<Event>>
  /** Highest revision of an outcome dropped from `outcomes`; -1 when none was. */
  evictedThrough: number
  /** The revision folded so far: a state at another revision must not extend it (it copies). */
  revision: number
}

export interface Loaded<State, Event> {
  readonly state: State
  /** Revision of the stream's last event; -1 when the stream does not exist. */
  readonly revision: number
  readonly position: number
  /**
   * The latest keyed outcomes (at most `maxOutcomesPerStream`, and all streams' together at most
   * `maxOutcomes`; older ones are looked up in the stream). Shared: see `OutcomeIndex`.
   */
  readonly outcomes: ReadonlyMap<string, KeyedOutcome<Event>>
  readonly index: OutcomeIndex<Event>
}

interface Options<Event extends { readonly _tag: string }, Encoded, State> {
  readonly schema: Schema.Schema<Event, Encoded>
  /** The aggregate whose streams these are: its `evolve` folds them, from its `initialState`. */
  readonly decider: Pick<Decider<unknown, Event, State, unknown, unknown>, "evolve" | "initialState">
  /** Streams whose folded state is kept between commands (least recently used go first). */
  readonly cacheSize?: number
  /** Keyed outcomes kept in memory per stream; a key older than these is found by reading the stream. */
  readonly maxOutcomesPerStream?: number
  /**
   * Keyed outcomes kept in memory over all cached streams (default 100,000): past it, the least
   * recently used streams lose their oldest outcomes first (found by reading the stream as well).
   */
  readonly maxOutcomes?: number
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
  const maxTotalOutcomes = Math.max(1, options.maxOutcomes ?? 100_000)
  const cache = new Map<string, Loaded<State, Event>>()
  const decode = decodeRecorded(schema)
  const encodeEvent = ParseResult.encodeSync(schema)
  const encode = (event: Event) => encodeEvent(event)
  const emptyIndex = (): OutcomeIndex<Event> => ({ outcomes: new Map(), evictedThrough: -1, revision: -1 })
  // Never extended (its revision is never a fold's): each stream's first fold copies it.
  const emptyOutcomes: OutcomeIndex<Event> = { outcomes: new Map(), evictedThrough: -1, revision: Number.NaN }
  const empty: Loaded<State, Event> = {
    state: initialState,
    revision: -1,
    position: 0,
    outcomes: emptyOutcomes.outcomes,
    index: emptyOutcomes
  }

  /** Outcomes held by the cached streams, as counted when each was last remembered. */
  let totalOutcomes = 0
  const counted = new Map<string, number>()
  const forget = (stream: string) => {
    cache.delete(stream)
    totalOutcomes -= counted.get(stream) ?? 0
    counted.delete(stream)
  }

  const dropped = makeDroppedKeys()

  /** Drops a stream's oldest outcomes until it holds `keep`, raising its `evictedThrough`. */
  const trim = (stream: string, index: OutcomeIndex<Event>, keep: number) => {
    for (const [key, outcome] of index.outcomes) {
      if (index.outcomes.size <= keep) break
      index.outcomes.delete(key)
      dropped.add(stream, key)
      index.evictedThrough = Math.max(index.evictedThrough, outcome.revision)
    }
  }

  const remember = (stream: string, loaded: Loaded<State, Event>) => {
    cache.delete(stream)
    cache.set(stream, loaded)
    totalOutcomes += loaded.index.outcomes.size - (counted.get(stream) ?? 0)
    counted.set(stream, loaded.index.outcomes.size)
    if (cache.size > cacheSize) forget(cache.keys().next().value!)
    // Over the global bound: the least recently used streams give up their oldest outcomes.
    for (const [other, state] of cache) {
      if (totalOutcomes <= maxTotalOutcomes || other === stream) break
      const before = state.index.outcomes.size
      trim(other, state.index, Math.max(0, before - (totalOutcomes - maxTotalOutcomes)))
      totalOutcomes -= before - state.index.outcomes.size
      counted.set(other, state.index.outcomes.size)
    }
    return loaded
  }

  /**
   * The index `from` can be extended through: its own, when nothing folded past `from` yet (the
   * usual case: in place); otherwise a copy as of `from` (a fold that raced another one).
   */
  const indexFor = (from: Loaded<State, Event>): OutcomeIndex<Event> => {
    const index = from.index
    if (index.revision === from.revision) return index
    if (index === emptyOutcomes) return emptyIndex()
    const copy: OutcomeIndex<Event> = {
      outcomes: new Map(),
      evictedThrough: index.evictedThrough,
      revision: from.revision
    }
    // Appends are atomic and `from` ends one: an outcome past it came wholly after it.
    for (const [key, outcome] of index.outcomes)
      if (outcome.revision <= from.revision) copy.outcomes.set(key, outcome)
    return copy
  }

  /** Folds decoded events into a loaded state, indexing outcomes by idempotency key. */
  const foldDecoded = (
    stream: string,
    from: Loaded<State, Event>,
    entries: ReadonlyArray<{ readonly event: Event; readonly record: RecordedEvent }>
  ): Loaded<State, Event> => {
    let { state, revision, position } = from
    const index = indexFor(from)
    const outcomes = index.outcomes
    for (const { event, record } of entries) {
      state = evolve(state, event)
      revision = record.revision
      position = record.position
      const key = record.metadata.idempotencyKey
      if (key !== undefined) {
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
        if (outcomes.size > maxOutcomes) trim(stream, index, maxOutcomes)
      }
    }
    index.revision = revision
    return { state, revision, position, outcomes, index }
  }

  const foldInto = (
    stream: string,
    from: Loaded<State, Event>,
    recorded: ReadonlyArray<RecordedEvent>
  ): Either.Either<Loaded<State, Event>, MalformedEvent> => {
    const entries: Array<{ readonly event: Event; readonly record: RecordedEvent }> = []
    for (const record of recorded) {
      const decoded = decode(record)
      if (Either.isLeft(decoded)) return Either.left(decoded.left)
      entries.push({ event: decoded.right, record })
    }
    return Either.right(foldDecoded(stream, from, entries))
  }

  const load = (stream: string): Effect.Effect<Loaded<State, Event>, ReadError> =>
    // Not a generator: a join loads three streams, usually all answered from the cache.
    Effect.suspend(() => {
      const cached = cache.get(stream) ?? empty
      // The store vouches that nothing newer exists: no read only to confirm the cache.
      if (cached.revision >= 0 && store.knownRevision?.(stream) === cached.revision)
        return Effect.succeed(cached)
      return Effect.flatMap(store.readStream(stream, { fromRevision: cached.revision + 1 }), (newer) =>
        newer.length === 0
          ? Effect.succeed(cached)
          : Effect.map(foldInto(stream, cached, newer), (folded) => remember(stream, folded))
      )
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
          stream,
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
      const kept = loaded.index.outcomes.get(key)
      const evictedThrough = loaded.index.evictedThrough
      // A key never dropped from memory is not in the log's older part: no read (the usual case,
      // a new key, would otherwise read the whole stream once it had dropped any outcome).
      if (kept !== undefined || evictedThrough < 0 || !dropped.mayHave(stream, key)) return kept
      const recorded = yield* store.readStream(stream)
      const keyed = recorded.filter((r) => r.revision <= evictedThrough && r.metadata.idempotencyKey === key)
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
