import { describe, expect, it } from "vitest"
import { defaultRestartPolicy, restartDelayMs } from "./workerPool.js"

describe("worker restart backoff", () => {
  it("doubles from the base delay and stays under the cap", () => {
    const policy = { ...defaultRestartPolicy, baseDelayMs: 100, maxDelayMs: 1000 }
    expect([1, 2, 3, 4, 5, 6].map((attempt) => restartDelayMs(policy, attempt))).toEqual([
      100, 200, 400, 800, 1000, 1000
    ])
    expect(restartDelayMs(policy, 1_000)).toBe(1000)
  })
})
