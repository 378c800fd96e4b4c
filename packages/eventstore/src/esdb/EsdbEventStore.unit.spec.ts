import { WrongExpectedVersionError } from "@eventstore/db-client"
import { WrongExpectedVersion } from "@spaces/domain"
import { describe, expect, it } from "vitest"
import { toExpectedRevision, toRecorded, toWrongExpectedVersion } from "./EsdbEventStore.js"
import { knownPosition, toNumber, toReadPosition } from "./positions.js"

const wrongVersion = (current: bigint | "no_stream") =>
  new WrongExpectedVersionError(undefined, { streamName: "space-1", expected: "stream_exists", current })

describe("EventStoreDB mapping", () => {
  it("maps every expected-revision mode", () => {
    expect(toExpectedRevision("any")).toBe("any")
    expect(toExpectedRevision("no_stream")).toBe("no_stream")
    expect(toExpectedRevision("stream_exists")).toBe("stream_exists")
    expect(toExpectedRevision(41)).toBe(41n)
  })

  it("maps WrongExpectedVersionError, including actualVersion no_stream, without crashing", () => {
    const absent = toWrongExpectedVersion("space-1", "stream_exists", wrongVersion("no_stream"))
    expect(absent).toBeInstanceOf(WrongExpectedVersion)
    expect(absent).toMatchObject({ stream: "space-1", expected: "stream_exists", actual: "no_stream" })
    expect(toWrongExpectedVersion("space-1", 3, wrongVersion(7n))).toMatchObject({ expected: 3, actual: 7 })
  })

  it("maps positions: commit position as the number, back with commit = prepare, 0 = start", () => {
    expect(toNumber({ commit: 1234n, prepare: 1234n })).toBe(1234)
    expect(toReadPosition(0)).toBe("start")
    expect(toReadPosition(1234)).toEqual({ commit: 1234n, prepare: 1234n })
    expect(knownPosition(undefined)).toBe(-1)
    expect(knownPosition({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })).toBe(-1)
  })

  it("reports binary payloads and unparseable metadata as MalformedEvent", () => {
    const base = {
      streamId: "space-1",
      id: "9f0c3c59-5b4c-4d59-9e34-2b1c7a3f8e01",
      revision: 4n,
      type: "SpaceCreated",
      created: new Date(0),
      position: { commit: 10n, prepare: 10n }
    }
    const binary = toRecorded({ ...base, isJson: false, data: new Uint8Array([1]), metadata: undefined })
    expect(binary).toMatchObject({ _tag: "MalformedEvent", stream: "space-1", revision: 4 })
    const badMetadata = toRecorded({ ...base, isJson: true, data: {}, metadata: new Uint8Array([123]) })
    expect(badMetadata).toMatchObject({ _tag: "MalformedEvent", reason: "metadata is not a JSON object" })
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
})
