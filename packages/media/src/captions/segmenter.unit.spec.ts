import { describe, expect, it } from "vitest"
import { Segmenter } from "./segmenter.js"

const run = (segmenter: Segmenter, levels: ReadonlyArray<number>) =>
  levels.map((level) => segmenter.feed(level, 20))

const times = (n: number, step: string): Array<string> => Array(n).fill(step)

describe("the speech segmenter", () => {
  const options = { thresholdDbov: -50, hangoverMs: 100, maxSegmentMs: 200 }

  it("starts on speech, ends after the hangover of silence, and stays idle in silence", () => {
    const steps = run(new Segmenter(options), [-90, -30, -30, -90, -90, -90, -90, -90, -90, -90])
    expect(steps).toEqual(["idle", "start", ...times(5, "speech"), "end", "idle", "idle"])
  })

  it("a short pause inside a phrase does not end it", () => {
    const steps = run(new Segmenter(options), [-30, -90, -90, -30, -30])
    expect(steps).toEqual(["start", "speech", "speech", "speech", "speech"])
  })

  it("cuts a phrase at its maximum length and starts the next at once", () => {
    const steps = run(new Segmenter(options), Array(12).fill(-20))
    expect(steps.slice(0, 11)).toEqual(["start", ...times(9, "speech"), "cut"])
    expect(steps.filter((s) => s === "end")).toEqual([])
  })
})
