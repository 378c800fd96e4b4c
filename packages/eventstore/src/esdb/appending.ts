/** The EventStoreDB adapter's appends: what the client's results and refusals mean for the port (idempotent retries, the end of the stream). */
import type { AppendResult as EsdbAppendResult } from "@eventstore/db-client"
import {
  type AppendResult,
  checkExpected,
  type EventData,
  type EventStoreShape,
  type EventStoreUnavailable,
  type ExpectedRevision,
  type RecordedEvent,
  WrongExpectedVersion
} from "@spaces/domain"
import { Effect, Option } from "effect"
import { endsWithIds, toActualRevision } from "./records.js"
import { knownPosition } from "./positions.js"

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
