import { Effect, type Scope, TestClock, TestContext } from "effect"
import { describe, expect, it } from "vitest"
import { makeGraceTimers } from "./graceTimers.js"

const run = <A>(effect: Effect.Effect<A, never, Scope.Scope>) =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(TestContext.TestContext)))

describe("grace timers", () => {
  it("fire each armed key once, a grace after it was first armed, in the order armed; a disarmed key never", () =>
    run(
      Effect.gen(function* () {
        const fired: Array<[string, number]> = []
        const timers = yield* makeGraceTimers<string>(1_000, (due) =>
          Effect.map(TestClock.currentTimeMillis, (now) => {
            for (const v of due) fired.push([v, now])
          })
        )
        yield* timers.arm("a", "a")
        yield* TestClock.adjust(400)
        yield* timers.arm("b", "b")
        yield* timers.arm("c", "c")
        // Armed again while running: the first deadline stands.
        yield* timers.arm("a", "a again")
        timers.disarm("c")
        expect(timers.pending()).toEqual(["a", "b"])
        yield* TestClock.adjust(599)
        expect(fired).toEqual([])
        yield* TestClock.adjust(1)
        expect(fired).toEqual([["a", 1_000]])
        yield* TestClock.adjust(400)
        expect(fired).toEqual([
          ["a", 1_000],
          ["b", 1_400]
        ])
        expect(timers.pending()).toEqual([])
        // With none left the sweeper waits; a new timer wakes it.
        yield* TestClock.adjust(5_000)
        yield* timers.arm("c", "c")
        yield* TestClock.adjust(1_000)
        expect(fired.at(-1)).toEqual(["c", 7_400])
        expect(fired).toHaveLength(3)
      })
    ))
})
