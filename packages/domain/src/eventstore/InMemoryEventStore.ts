import { Effect, Layer } from "effect"
import {
  type AppendResult,
  CheckpointStore,
  type EventData,
  EventStore,
  type EventStoreShape,
  type RecordedEvent,
  type StreamAppend
} from "./EventStore.js"
import { type ExpectedRevision, WrongExpectedVersion } from "./EventStoreError.js"
import { CommitSignal, catchUpThenLive, readToEnd } from "./liveTail.js"

const PAGE = 512

/** Checks `expected` against a stream's current last revision (-1 when the stream is absent). */
export const checkExpected = (
  stream: string,
  expected: ExpectedRevision,
  last: number
): WrongExpectedVersion | undefined => {
  const ok =
    expected === "any" ||
    (expected === "no_stream" && last === -1) ||
    (expected === "stream_exists" && last >= 0) ||
    expected === last
  return ok
    ? undefined
    : new WrongExpectedVersion({ stream, expected, actual: last === -1 ? "no_stream" : last })
}

/** Is `events` exactly the tail of `stored` by id? Then the append is a retry already applied. */
export const isRetryOf = (stored: ReadonlyArray<{ readonly id: string }>, events: ReadonlyArray<EventData>) =>
  events.length > 0 &&
  stored.length >= events.length &&
  events.every((event, i) => stored[stored.length - events.length + i]?.id === event.id)

/** The in-memory event store: the contract's reference implementation, for tests and embedding. */
export const makeInMemoryEventStore = (): EventStoreShape => {
  const log: RecordedEvent[] = []
  const streams = new Map<string, RecordedEvent[]>()
  const signal = new CommitSignal()

  const readPage = (after: number) => Effect.sync(() => log.slice(after, after + PAGE))

  /** The outcome of appending to `stream` now: a retry's original result, a conflict, or what to write. */
  const plan = (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision) => {
    const stored = streams.get(stream) ?? []
    const last = stored.length - 1
    if (isRetryOf(stored, events)) {
      const tail = stored[stored.length - 1]!
      return { done: { nextRevision: tail.revision, position: tail.position } satisfies AppendResult }
    }
    const conflict = checkExpected(stream, expected, last)
    return conflict === undefined ? { write: { stream, events, last } } : { conflict }
  }

  const write = (stream: string, events: ReadonlyArray<EventData>, last: number): AppendResult => {
    if (events.length === 0) return { nextRevision: last, position: log.length }
    const recorded = events.map(
      (event, i): RecordedEvent => ({
        ...event,
        streamId: stream,
        revision: last + 1 + i,
        position: log.length + 1 + i
      })
    )
    log.push(...recorded)
    streams.set(stream, (streams.get(stream) ?? []).concat(recorded))
    const tail = recorded[recorded.length - 1]!
    return { nextRevision: tail.revision, position: tail.position }
  }

  /** Every stream checked before anything is written: all the appends or none. */
  const appendMany = (appends: ReadonlyArray<StreamAppend>) =>
    Effect.suspend(() => {
      const planned = appends.map((a) => plan(a.stream, a.events, a.expected))
      const conflict = planned.find((p) => p.conflict !== undefined)?.conflict
      if (conflict !== undefined) return Effect.fail(conflict)
      const results = planned.map((p) => p.done ?? write(p.write!.stream, p.write!.events, p.write!.last))
      if (planned.some((p) => p.write !== undefined && p.write.events.length > 0)) signal.notify()
      return Effect.succeed(results)
    })

  /** One stream's append: a multi-stream append of one. */
  const append = (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision) =>
    Effect.map(appendMany([{ stream, events, expected }]), (results) => results[0]!)

  return {
    append,
    appendMany,
    readStream: (stream, options) =>
      Effect.sync(() => (streams.get(stream) ?? []).slice(options?.fromRevision ?? 0)),
    // Nobody else writes to this log: the stream's length is its revision.
    knownRevision: (stream) => {
      const stored = streams.get(stream)
      return stored === undefined ? undefined : stored.length - 1
    },
    head: () => Effect.sync(() => log.length),
    readAll: (from) => readToEnd(from, readPage),
    subscribeAll: (from) => catchUpThenLive(from, readPage, signal)
  }
}

export const InMemoryEventStore = Layer.sync(EventStore, makeInMemoryEventStore)

/** Checkpoints kept in memory, for tests and embedding. */
export const InMemoryCheckpointStore = Layer.sync(CheckpointStore, () => {
  const positions = new Map<string, number>()
  return CheckpointStore.of({
    load: (name) => Effect.sync(() => positions.get(name) ?? 0),
    save: (name, position) => Effect.sync(() => void positions.set(name, position))
  })
})
