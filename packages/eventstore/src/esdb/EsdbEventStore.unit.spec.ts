import { convertToCommandError, WrongExpectedVersionError } from "@eventstore/db-client"
import { it } from "@effect/vitest"
import {
  EventStoreUnavailable,
  MalformedEvent,
  type RecordedEvent,
  WrongExpectedVersion
} from "@spaces/domain"
import { Chunk, Effect, Option, Schedule, Stream } from "effect"
import { describe, expect } from "vitest"
import {
  nextPage,
  resubscribing,
  toActualRevision,
  toExpectedRevision,
  toRecorded,
  toWrongExpectedVersion
} from "./EsdbEventStore.js"
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
