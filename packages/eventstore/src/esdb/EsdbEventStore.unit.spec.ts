import {
  AccessDeniedError,
  CancelledError,
  convertToCommandError,
  DeadlineExceededError,
  type AppendResult as EsdbAppendResult,
  NotLeaderError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError
} from "@eventstore/db-client"
import { it } from "@effect/vitest"
import {
  type EventData,
  EventStoreUnavailable,
  MalformedEvent,
  type RecordedEvent,
  WrongExpectedVersion
} from "@spaces/domain"
import { Chunk, Effect, Option, Schedule, Stream } from "effect"
import { describe, expect } from "vitest"
import {
  type AppendSteps,
  appending,
  appendOutcome,
  checksEndFirst,
  originalAppend,
  positionedAt,
  refusal
} from "./appending.js"
import {
  EventStoreAccessDenied,
  fromClientError,
  isRetryable,
  nextPage,
  resubscribing,
  toActualRevision,
  toExpectedRevision,
  toRecorded,
  toWrongExpectedVersion
} from "./records.js"
import { isBeyondNumber, knownPosition, MAX_EXACT_POSITION, toNumber, toReadPosition } from "./positions.js"

const wrongVersion = (current: bigint | "no_stream") =>
  new WrongExpectedVersionError(undefined, { streamName: "space-1", expected: "stream_exists", current })

/**
 * The gRPC status a server answers a refused append with when it raises an RPC exception (20.x):
 * metadata names the versions, `-1` standing for "no stream". The client's own conversion turns
 * it into a WrongExpectedVersionError whose actualVersion is then `-1n`, not `"no_stream"`.
 */
const fromRpcStatus = (expected: string, actual: string) =>
  convertToCommandError(
    Object.assign(new Error("Append failed due to WrongExpectedVersion"), {
      code: 9,
      details: "Append failed due to WrongExpectedVersion",
      metadata: {
        getMap: () => ({
          exception: "wrong-expected-version",
          "stream-name": "space-1",
          "expected-version": expected,
          "actual-version": actual
        })
      }
    })
  )

const base = {
  streamId: "space-1",
  id: "9f0c3c59-5b4c-4d59-9e34-2b1c7a3f8e01",
  revision: 4n,
  type: "SpaceCreated",
  created: new Date(0),
  position: { commit: 10n, prepare: 10n }
}

describe("EventStoreDB mapping", () => {
  it("maps every expected-revision mode", () => {
    expect(toExpectedRevision("any")).toBe("any")
    expect(toExpectedRevision("no_stream")).toBe("no_stream")
    expect(toExpectedRevision("stream_exists")).toBe("stream_exists")
    expect(toExpectedRevision(41)).toBe(41n)
    expect(toExpectedRevision(0)).toBe(0n)
  })

  it("maps WrongExpectedVersionError, including actualVersion no_stream, without crashing", () => {
    const absent = toWrongExpectedVersion("space-1", "stream_exists", wrongVersion("no_stream"))
    expect(absent).toBeInstanceOf(WrongExpectedVersion)
    expect(absent).toMatchObject({ stream: "space-1", expected: "stream_exists", actual: "no_stream" })
    expect(toWrongExpectedVersion("space-1", 3, wrongVersion(7n))).toMatchObject({ expected: 3, actual: 7 })
  })

  it("maps a conflict built from an RPC status (actual -1) to no_stream instead of crashing", () => {
    const error = fromRpcStatus("0", "-1")
    expect(error).toBeInstanceOf(WrongExpectedVersionError)
    expect((error as WrongExpectedVersionError).actualVersion).toBe(-1n)
    expect(toWrongExpectedVersion("space-1", 0, error as WrongExpectedVersionError)).toMatchObject({
      _tag: "WrongExpectedVersion",
      expected: 0,
      actual: "no_stream"
    })
    const existing = fromRpcStatus("-1", "2") as WrongExpectedVersionError
    expect(toWrongExpectedVersion("space-1", "no_stream", existing)).toMatchObject({ actual: 2 })
    const unknown = fromRpcStatus("-4", "") as WrongExpectedVersionError
    expect(toWrongExpectedVersion("space-1", "stream_exists", unknown)).toMatchObject({ actual: "no_stream" })
  })

  it("reads every form of a current revision as ours", () => {
    expect(toActualRevision("no_stream")).toBe("no_stream")
    expect(toActualRevision(-1n)).toBe("no_stream")
    expect(toActualRevision(-1)).toBe("no_stream")
    expect(toActualRevision(0n)).toBe(0)
    expect(toActualRevision(12n)).toBe(12)
  })

  it("maps positions: commit position as the number, back with commit = prepare, 0 = start", () => {
    expect(toNumber({ commit: 1234n, prepare: 1234n })).toBe(1234)
    expect(toReadPosition(0)).toBe("start")
    expect(toReadPosition(-1)).toBe("start")
    expect(toReadPosition(1234)).toEqual({ commit: 1234n, prepare: 1234n })
    expect(toNumber(toReadPosition(987_654_321) as { commit: bigint; prepare: bigint })).toBe(987_654_321)
  })

  it("refuses positions a number cannot hold exactly instead of rounding them", () => {
    const max = Number.MAX_SAFE_INTEGER
    expect(toNumber({ commit: MAX_EXACT_POSITION, prepare: MAX_EXACT_POSITION })).toBe(max)
    expect(toReadPosition(max)).toEqual({ commit: MAX_EXACT_POSITION, prepare: MAX_EXACT_POSITION })
    // 2^53 + 1 would round to 2^53: two events would share a position and a resume would skip one.
    const above = { commit: 2n ** 53n + 1n, prepare: 2n ** 53n + 1n }
    expect(() => toNumber(above)).toThrow(RangeError)
    expect(isBeyondNumber(above)).toBe(true)
    expect(() => toReadPosition(2 ** 53 + 2)).toThrow(RangeError)
    expect(() => toReadPosition(1.5)).toThrow(RangeError)
  })

  it("reads a position the server left out of a stream read as -1", () => {
    expect(knownPosition(undefined)).toBe(-1)
    // ulong.MaxValue: what servers before 22.6 send for "no position".
    expect(knownPosition({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })).toBe(-1)
    expect(isBeyondNumber({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })).toBe(false)
    // The field's default when a server does not set it at all.
    expect(knownPosition({ commit: 0n, prepare: 0n })).toBe(-1)
    expect(knownPosition({ commit: 77n, prepare: 77n })).toBe(77)
  })

  it("reports binary payloads, unparseable metadata and inexact positions as MalformedEvent", () => {
    const binary = toRecorded({ ...base, isJson: false, data: new Uint8Array([1]), metadata: undefined })
    expect(binary).toMatchObject({ _tag: "MalformedEvent", stream: "space-1", revision: 4 })
    // The client hands metadata that is not JSON back as bytes.
    const badMetadata = toRecorded({ ...base, isJson: true, data: {}, metadata: new Uint8Array([123]) })
    expect(badMetadata).toMatchObject({ _tag: "MalformedEvent", reason: "metadata is not a JSON object" })
    const noMetadata = toRecorded({ ...base, isJson: true, data: {}, metadata: undefined })
    expect(noMetadata).toBeInstanceOf(MalformedEvent)
    const far = toRecorded({
      ...base,
      isJson: true,
      data: {},
      metadata: { recordedAt: 1 },
      position: { commit: 2n ** 60n, prepare: 2n ** 60n }
    })
    expect(far).toMatchObject({ _tag: "MalformedEvent", revision: 4 })
    const ok = toRecorded({ ...base, isJson: true, data: { a: 1 }, metadata: { recordedAt: 1 } })
    expect(ok).toEqual({
      id: base.id,
      type: "SpaceCreated",
      data: { a: 1 },
      metadata: { recordedAt: 1 },
      streamId: "space-1",
      revision: 4,
      position: 10
    })
  })

  it("pages $all: the next page starts at the last raw event; a short or stuck page is the last", () => {
    expect(nextPage(100, 4096, 4096, 9000)).toEqual(Option.some(9000))
    expect(nextPage(100, 12, 4096, 9000)).toEqual(Option.none())
    expect(nextPage(100, 0, 4096, undefined)).toEqual(Option.none())
    // A full page that did not move past `after` (its raw events all at `after`) must not loop.
    expect(nextPage(100, 2, 2, 100)).toEqual(Option.none())
  })
})

const recorded = (position: number): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${String(position).padStart(12, "0")}`,
  type: "Tested",
  data: {},
  metadata: { recordedAt: 0 },
  streamId: "space-1",
  revision: position,
  position
})

const dropped = new EventStoreUnavailable({ reason: "connection reset" })
const fast = Schedule.exponential("1 millis").pipe(Schedule.union(Schedule.spaced("5 millis")))

describe("resubscribing (the adapter's drop handling, over port-level streams)", () => {
  it.live("resumes from the last delivered position and drops what a new subscription repeats", () =>
    Effect.gen(function* () {
      const from: Array<number> = []
      const script = [
        Stream.concat(Stream.make(recorded(100), recorded(200)), Stream.fail(dropped)),
        // A subscription may deliver the event at its start position again, and may drop at once.
        Stream.fail(dropped),
        Stream.concat(Stream.make(recorded(200), recorded(300)), Stream.fail(dropped)),
        Stream.make(recorded(300), recorded(400), recorded(500))
      ]
      const subscribeFrom = (after: number) => {
        from.push(after)
        return script[from.length - 1] ?? Stream.never
      }
      const got = yield* resubscribing(subscribeFrom, 0, fast).pipe(
        Stream.take(5),
        Stream.runCollect,
        Effect.timeout("5 seconds")
      )
      expect(Chunk.toReadonlyArray(got).map((e) => e.position)).toEqual([100, 200, 300, 400, 500])
      expect(from).toEqual([0, 200, 200, 300])
    })
  )

  it.live("starts strictly after `from`", () =>
    Effect.gen(function* () {
      const got = yield* resubscribing(() => Stream.make(recorded(100), recorded(200)), 100, fast).pipe(
        Stream.runCollect
      )
      expect(Chunk.toReadonlyArray(got).map((e) => e.position)).toEqual([200])
    })
  )

  it.live("does not retry a malformed event: the subscription fails with it", () =>
    Effect.gen(function* () {
      let subscriptions = 0
      const malformed = new MalformedEvent({ stream: "space-1", revision: 1, type: "T", reason: "bad" })
      const error = yield* resubscribing(
        () => {
          subscriptions++
          return Stream.concat(Stream.make(recorded(100)), Stream.fail(malformed))
        },
        0,
        fast
      ).pipe(Stream.runDrain, Effect.flip)
      expect(error).toBe(malformed)
      expect(subscriptions).toBe(1)
    })
  )
})

/** A gRPC error as the server sends it: a status code, and `exception` metadata when it names one. */
const serviceError = (code: number, details: string, metadata: Record<string, string> = {}) =>
  Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { getMap: () => metadata }
  })

describe("fromClientError (which client errors retrying can fix)", () => {
  const denied = [
    // A user without the rights: reading $all as a non-admin on a secure node.
    convertToCommandError(serviceError(7, "Access Denied", { exception: "access-denied" })),
    // No or wrong credentials: gRPC UNAUTHENTICATED, which the client also calls AccessDeniedError.
    convertToCommandError(serviceError(16, "Bad username or password"))
  ]
  for (const error of denied)
    it(`access denied is not retryable and says so: ${error.message}`, () => {
      expect(error).toBeInstanceOf(AccessDeniedError)
      const mapped = fromClientError(error)
      expect(mapped).toBeInstanceOf(EventStoreAccessDenied)
      expect(mapped._tag).toBe("EventStoreUnavailable")
      expect(isRetryable(mapped)).toBe(false)
      expect(mapped.message).toContain("access denied")
      expect(mapped.message).toContain("credentials")
      expect(mapped.message).toContain(error.message)
    })

  const transient = [
    convertToCommandError(serviceError(14, "No connection established")),
    convertToCommandError(serviceError(4, "Deadline exceeded")),
    convertToCommandError(serviceError(1, "Cancelled on server")),
    convertToCommandError(
      serviceError(5, "Leader info available", {
        exception: "not-leader",
        "leader-endpoint-host": "node2",
        "leader-endpoint-port": "2113"
      })
    ),
    convertToCommandError(serviceError(13, "Internal")),
    new Error("socket hang up")
  ]
  it("the real client's conversions give the expected classes", () => {
    expect(transient.map((error) => error.constructor)).toEqual([
      UnavailableError,
      DeadlineExceededError,
      CancelledError,
      NotLeaderError,
      UnknownError,
      Error
    ])
  })
  for (const error of transient)
    it(`${error.constructor.name} stays retryable, reason unchanged`, () => {
      const mapped = fromClientError(error)
      expect(mapped).not.toBeInstanceOf(EventStoreAccessDenied)
      expect(mapped).toEqual(new EventStoreUnavailable({ reason: error.message }))
      expect(isRetryable(mapped)).toBe(true)
    })

  it("other port errors are not retried", () => {
    const malformed = new MalformedEvent({ stream: "s", revision: 0, type: "T", reason: "bad" })
    expect(isRetryable(malformed)).toBe(false)
  })

  it.live("the subscription stops on access denied, failing with it, after one attempt", () =>
    Effect.gen(function* () {
      let subscriptions = 0
      const denied = fromClientError(new AccessDeniedError(undefined, "Access Denied"))
      const error = yield* resubscribing(
        () => {
          subscriptions++
          return Stream.concat(Stream.make(recorded(100)), Stream.fail(denied))
        },
        0,
        fast
      ).pipe(Stream.runDrain, Effect.flip, Effect.timeout("5 seconds"))
      expect(error).toBe(denied)
      expect(subscriptions).toBe(1)
    })
  )
})

/** Stored events as the adapter's stream reads give them (ids in lower case, as ESDB returns them). */
const stored = (revision: number, id: string): RecordedEvent => ({
  id,
  type: "Tested",
  data: {},
  metadata: { recordedAt: 0 },
  streamId: "space-1",
  revision,
  position: 1000 + revision * 100
})

const idA = "0a0a0a0a-0000-4000-8000-00000000000a"
const idB = "0b0b0b0b-0000-4000-8000-00000000000b"
/** A writer's events, ids in upper case: the comparison with stored ids ignores case. */
const toAppend: ReadonlyArray<EventData> = [idA, idB].map((id) => ({
  id: id.toUpperCase(),
  type: "Tested",
  data: {},
  metadata: { recordedAt: 0 }
}))

/**
 * The client's `AppendResult` as its append paths build it (their `position: undefined` written as
 * no position, the type's optional field): a refusal under `throwOnAppendFailure=false` carries no
 * position, and its revision is whatever the client made of the server's answer (the batch append
 * reports `BigInt(hasCurrentStreamRevision())`, i.e. 1n).
 */
const refusedResult: EsdbAppendResult = { success: false, nextExpectedRevision: 1n }
const absentRefusal: EsdbAppendResult = { success: false, nextExpectedRevision: -1n }
const writtenResult: EsdbAppendResult = {
  success: true,
  nextExpectedRevision: 6n,
  position: { commit: 1600n, prepare: 1600n }
}
/** What an idempotent write (ESDB dropped the re-sent ids) returns: a revision, no position. */
const idempotentResult: EsdbAppendResult = { success: true, nextExpectedRevision: 6n }

describe("EventStoreDB append decisions", () => {
  it("reads the client's append result: written, refused, or written without a position", () => {
    expect(appendOutcome(writtenResult)).toEqual({
      _tag: "Written",
      result: { nextRevision: 6, position: 1600 }
    })
    expect(appendOutcome(refusedResult)).toEqual({ _tag: "Refused" })
    expect(appendOutcome(absentRefusal)).toEqual({ _tag: "Refused" })
    expect(appendOutcome(idempotentResult)).toEqual({ _tag: "PositionAt", nextRevision: 6 })
    // A server before 22.6 may send "no position" as 2^64 - 1 or leave it 0.
    const none = { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }
    expect(appendOutcome({ ...writtenResult, position: none })).toEqual({
      _tag: "PositionAt",
      nextRevision: 6
    })
    expect(appendOutcome({ ...writtenResult, position: { commit: 0n, prepare: 0n } })._tag).toBe("PositionAt")
  })

  it("builds a reported refusal's conflict from the stream's last event, not from the result", () => {
    const conflict = refusal("space-1", 3, stored(7, idA))
    expect(conflict).toBeInstanceOf(WrongExpectedVersion)
    expect(conflict).toMatchObject({ stream: "space-1", expected: 3, actual: 7 })
    expect(refusal("space-1", "stream_exists", undefined)).toMatchObject({ actual: "no_stream" })
  })

  it("takes a position-less write's position from the event at its revision, -1 if it is gone", () => {
    expect(positionedAt(6, stored(6, idB))).toEqual({ nextRevision: 6, position: 1600 })
    expect(positionedAt(6, undefined)).toEqual({ nextRevision: 6, position: -1 })
  })

  it("recognizes a retry by the ids at the stream's end, in any case, and returns the original result", () => {
    expect(originalAppend([stored(5, idA), stored(6, idB)], toAppend)).toEqual(
      Option.some({ nextRevision: 6, position: 1600 })
    )
    // Only part of the batch, another order, another stream end, or nothing stored: not a retry.
    expect(originalAppend([stored(6, idB)], toAppend)).toEqual(Option.none())
    expect(originalAppend([stored(5, idB), stored(6, idA)], toAppend)).toEqual(Option.none())
    expect(originalAppend([stored(5, idA), stored(6, idB), stored(7, idA)], toAppend)).toEqual(Option.none())
    expect(originalAppend([], toAppend)).toEqual(Option.none())
  })

  it("checks the stream's end before writing only where ESDB's own idempotency is best effort", () => {
    expect(checksEndFirst("any")).toBe(true)
    expect(checksEndFirst("stream_exists")).toBe(true)
    expect(checksEndFirst("no_stream")).toBe(false)
    expect(checksEndFirst(5)).toBe(false)
  })
})

/**
 * The append's order of steps, over scripted answers: each test gives exactly what the reads and
 * the client's append return (the client's own result shapes and errors), not a simulated server.
 */
const script = (answers: {
  readonly tail?: ReadonlyArray<RecordedEvent>
  readonly eventAt?: RecordedEvent
  readonly write?: EsdbAppendResult | WrongExpectedVersion
}) => {
  const calls: Array<string> = []
  const steps: AppendSteps = {
    tail: (_stream, count) => {
      calls.push(`tail ${count}`)
      return Effect.succeed((answers.tail ?? []).slice(-count))
    },
    eventAt: (_stream, revision) => {
      calls.push(`eventAt ${revision}`)
      return Effect.succeed(answers.eventAt)
    },
    write: (_stream, events, expected) => {
      calls.push(`write ${events.length} ${expected}`)
      const answer = answers.write
      if (answer === undefined) return Effect.die("no write expected")
      return answer instanceof WrongExpectedVersion ? Effect.fail(answer) : Effect.succeed(answer)
    }
  }
  return { calls, append: appending(steps) }
}

describe("EventStoreDB append steps", () => {
  it.effect("with any or stream_exists, a retry found at the stream's end is answered without writing", () =>
    Effect.gen(function* () {
      for (const expected of ["any", "stream_exists"] as const) {
        const { calls, append } = script({ tail: [stored(4, idB), stored(5, idA), stored(6, idB)] })
        expect(yield* append("space-1", toAppend, expected)).toEqual({ nextRevision: 6, position: 1600 })
        expect(calls).toEqual(["tail 2"])
      }
    })
  )

  it.effect("with any, a batch not at the stream's end is written after the check", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ tail: [stored(4, idA)], write: writtenResult })
      expect(yield* append("space-1", toAppend, "any")).toEqual({ nextRevision: 6, position: 1600 })
      expect(calls).toEqual(["tail 2", "write 2 any"])
    })
  )

  it.effect("with an exact revision, writes first without reading", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ write: writtenResult })
      expect(yield* append("space-1", toAppend, 4)).toEqual({ nextRevision: 6, position: 1600 })
      expect(calls).toEqual(["write 2 4"])
    })
  )

  it.effect("a write without a position reads the batch's last event by revision", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ write: idempotentResult, eventAt: stored(6, idB) })
      expect(yield* append("space-1", toAppend, "no_stream")).toEqual({ nextRevision: 6, position: 1600 })
      expect(calls).toEqual(["write 2 no_stream", "eventAt 6"])
    })
  )

  it.effect("throwOnAppendFailure=false: {success:false} fails with the stream's revision read afresh", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ tail: [stored(8, idA)], write: refusedResult })
      const conflict = yield* Effect.flip(append("space-1", toAppend, 4))
      expect(conflict).toBeInstanceOf(WrongExpectedVersion)
      expect(conflict).toMatchObject({ stream: "space-1", expected: 4, actual: 8 })
      // The refusal's revision, then the retry check (2 events): neither is a retry here.
      expect(calls).toEqual(["write 2 4", "tail 1", "tail 2"])
    })
  )

  it.effect("throwOnAppendFailure=false: a refused absent stream reads as no_stream", () =>
    Effect.gen(function* () {
      const { append } = script({ tail: [], write: absentRefusal })
      const conflict = yield* Effect.flip(append("space-1", toAppend, "stream_exists"))
      expect(conflict).toMatchObject({ expected: "stream_exists", actual: "no_stream" })
    })
  )

  it.effect("throwOnAppendFailure=false: a refused retry of a stored batch returns the original result", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ tail: [stored(5, idA), stored(6, idB)], write: refusedResult })
      expect(yield* append("space-1", toAppend, 4)).toEqual({ nextRevision: 6, position: 1600 })
      expect(calls).toEqual(["write 2 4", "tail 1", "tail 2"])
    })
  )

  it.effect("a thrown conflict (the client's default) is checked for a retry too", () =>
    Effect.gen(function* () {
      const thrown = toWrongExpectedVersion("space-1", 4, wrongVersion(6n))
      const retry = script({ tail: [stored(5, idA), stored(6, idB)], write: thrown })
      expect(yield* retry.append("space-1", toAppend, 4)).toEqual({ nextRevision: 6, position: 1600 })
      const other = script({ tail: [stored(5, idB), stored(6, idA)], write: thrown })
      expect(yield* Effect.flip(other.append("space-1", toAppend, 4))).toBe(thrown)
      expect(other.calls).toEqual(["write 2 4", "tail 2"])
    })
  )

  it.effect("an empty append only checks the expected revision", () =>
    Effect.gen(function* () {
      const { calls, append } = script({ tail: [stored(3, idA)] })
      expect(yield* append("space-1", [], 3)).toEqual({ nextRevision: 3, position: 1300 })
      expect(yield* Effect.flip(append("space-1", [], "no_stream"))).toMatchObject({ actual: 3 })
      expect(calls).toEqual(["tail 1", "tail 1"])
    })
  )
})
