import { createInterface } from "node:readline"
import type { Readable, Writable } from "node:stream"
import {
  EventMetadata,
  type EventStoreShape,
  type EventStoreUnavailable,
  type ReadError,
  type RecordedEvent,
  type WrongExpectedVersion
} from "@spaces/domain"
import { Effect, Schema, Stream } from "effect"

/**
 * One line of an exported log: a recorded event with its stream and revision. `position` is the
 * event's position in the store it came from, for reference only: the importing store assigns its
 * own global positions (in the same order), so projections rebuild after a move.
 */
export const ExportedEvent = Schema.Struct({
  stream: Schema.String,
  revision: Schema.NonNegativeInt,
  position: Schema.optional(Schema.Number),
  id: Schema.String,
  type: Schema.String,
  data: Schema.Unknown,
  metadata: EventMetadata
})
export type ExportedEvent = typeof ExportedEvent.Type

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(ExportedEvent))

export class EventLogFileError extends Schema.TaggedError<EventLogFileError>()("EventLogFileError", {
  reason: Schema.String,
  line: Schema.optional(Schema.Number)
}) {
  override get message() {
    return this.line === undefined ? this.reason : `line ${this.line}: ${this.reason}`
  }
}

export interface Progress {
  /** Called every `every` events (default 10,000) and once at the end with the running count. */
  readonly onProgress?: (count: number) => void
  readonly every?: number
}

const toLine = (event: RecordedEvent): string =>
  JSON.stringify({
    stream: event.streamId,
    revision: event.revision,
    position: event.position,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata
  })

/** Writes `chunk` and waits for the sink to drain when its buffer is full. */
const write = (output: Writable, chunk: string) =>
  Effect.async<void, EventLogFileError>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(new EventLogFileError({ reason: error.message })))
    output.once("error", onError)
    const done = () => {
      output.off("error", onError)
      resume(Effect.void)
    }
    if (output.write(chunk)) done()
    else output.once("drain", done)
  })

/** Writes the whole log, in commit order, as JSON lines. Returns the number of events written. */
export const exportLog = (
  store: EventStoreShape,
  output: Writable,
  progress: Progress = {}
): Effect.Effect<number, ReadError | EventLogFileError> =>
  Effect.suspend(() => {
    const every = progress.every ?? 10_000
    let count = 0
    let reported = 0
    return store.readAll(0).pipe(
      Stream.runForEachChunk((chunk) => {
        let text = ""
        for (const event of chunk) text += `${toLine(event)}\n`
        count += chunk.length
        if (count - reported >= every) {
          reported = count
          progress.onProgress?.(count)
        }
        return write(output, text)
      }),
      Effect.map(() => {
        progress.onProgress?.(count)
        return count
      })
    )
  })

type ImportError = EventLogFileError | WrongExpectedVersion | EventStoreUnavailable | ReadError

/** Events per append when consecutive lines belong to the same stream. */
const BATCH = 1_000

/**
 * Appends the lines of an exported log in their order. Consecutive lines of one stream go in one
 * append, with the expected revision taken from the file, so revisions are kept exactly and an
 * import into a store that already holds other events of those streams is refused
 * (`WrongExpectedVersion`) instead of merged. Importing the same file again, or again after an
 * interruption, skips the batches already there (same ids at the same revisions): it resumes.
 */
export const importLog = (
  store: EventStoreShape,
  input: Readable,
  progress: Progress = {}
): Effect.Effect<number, ImportError> =>
  Effect.suspend(() => {
    const every = progress.every ?? 10_000
    let count = 0
    let reported = 0
    let lineNumber = 0
    let batch: Array<ExportedEvent> = []

    const alreadyThere = (events: ReadonlyArray<ExportedEvent>) =>
      Effect.map(store.readStream(events[0]!.stream, { fromRevision: events[0]!.revision }), (stored) =>
        events.every((event, i) => stored[i]?.id === event.id)
      )

    const flush = (): Effect.Effect<void, ImportError> => {
      if (batch.length === 0) return Effect.void
      const events = batch
      batch = []
      const first = events[0]!
      const expected = first.revision === 0 ? "no_stream" : first.revision - 1
      const appended = store.append(
        first.stream,
        events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata })),
        expected
      )
      return appended.pipe(
        Effect.asVoid,
        Effect.catchTag("WrongExpectedVersion", (conflict) =>
          Effect.flatMap(alreadyThere(events), (there) => (there ? Effect.void : Effect.fail(conflict)))
        ),
        Effect.tap(() => {
          count += events.length
          if (count - reported >= every) {
            reported = count
            progress.onProgress?.(count)
          }
        })
      )
    }

    const onLine = (line: string): Effect.Effect<void, ImportError> => {
      lineNumber++
      if (line.trim() === "") return Effect.void
      const decoded = decodeLine(line)
      if (decoded._tag === "Left")
        return Effect.fail(new EventLogFileError({ reason: decoded.left.message, line: lineNumber }))
      const event = decoded.right
      const last = batch.at(-1)
      const continues =
        last !== undefined && last.stream === event.stream && last.revision + 1 === event.revision
      if (continues && batch.length < BATCH) {
        batch.push(event)
        return Effect.void
      }
      return Effect.flatMap(flush(), () =>
        Effect.sync(() => {
          batch = [event]
        })
      )
    }

    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
    return Stream.fromAsyncIterable(lines, (error) => new EventLogFileError({ reason: String(error) })).pipe(
      Stream.runForEach(onLine),
      Effect.flatMap(flush),
      Effect.map(() => {
        progress.onProgress?.(count)
        return count
      }),
      Effect.ensuring(Effect.sync(() => lines.close()))
    )
  })
