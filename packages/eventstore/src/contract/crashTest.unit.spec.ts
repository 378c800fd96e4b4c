import type { RecordedEvent } from "@spaces/domain"
import { describe, expect, it } from "vitest"
import { crashLogProblems } from "./crashTest.js"

const event = (
  stream: string,
  revision: number,
  position: number,
  batch: number,
  index: number,
  size: number
) =>
  ({
    id: `${position}`,
    type: "CrashTested",
    streamId: stream,
    revision,
    position,
    metadata: { recordedAt: 0 },
    data: { batch, index, size }
  }) as RecordedEvent

describe("the crash test's check of the log", () => {
  it("passes a log with every batch whole, and names what is missing, partial or out of order", () => {
    const good = [
      event("crash-0", 0, 1, 0, 0, 2),
      event("crash-0", 1, 2, 0, 1, 2),
      event("crash-1", 0, 3, 1, 0, 1)
    ]
    expect(
      crashLogProblems(good, [
        { batch: 0, size: 2 },
        { batch: 1, size: 1 }
      ])
    ).toEqual([])
    expect(crashLogProblems(good, [{ batch: 2, size: 3 }])).toEqual(["acknowledged batch 2: 0 of 3 events"])
    expect(crashLogProblems([good[0]!, good[2]!], [])).toEqual(
      ["batch 0 partly there: events 0 of 2", "crash-1: revision 0, 0 expected"].slice(0, 1)
    )
    expect(crashLogProblems([good[1]!, good[0]!], [])).toContain("position 1 after 2")
  })
})
