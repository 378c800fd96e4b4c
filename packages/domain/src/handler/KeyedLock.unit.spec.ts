import { Deferred, Effect, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { makeKeyedLock } from "./KeyedLock.js"

describe("makeKeyedLock", () => {
  it("runs one effect per key at a time, in the order they asked; other keys in parallel", async () => {
    const lock = makeKeyedLock()
    const log: Array<string> = []
    const program = Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(
        lock(
          "a",
          Effect.zipRight(
            Effect.sync(() => log.push("a1 in")),
            Deferred.await(gate)
          )
        )
      )
      yield* Effect.yieldNow()
      const second = yield* Effect.fork(
        lock(
          "a",
          Effect.sync(() => log.push("a2 in"))
        )
      )
      const third = yield* Effect.fork(
        lock(
          "a",
          Effect.sync(() => log.push("a3 in"))
        )
      )
      // Another key does not wait for "a".
      yield* lock(
        "b",
        Effect.sync(() => log.push("b in"))
      )
      yield* Effect.yieldNow()
      expect(log).toEqual(["a1 in", "b in"])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      yield* Fiber.join(third)
    })
    await Effect.runPromise(program)
    expect(log).toEqual(["a1 in", "b in", "a2 in", "a3 in"])
  })

  it("frees the key when its holder fails or is interrupted, and when a waiter gives up", async () => {
    const lock = makeKeyedLock()
    const program = Effect.gen(function* () {
      // A failure releases.
      const failed = yield* Effect.either(lock("k", Effect.fail("boom")))
      expect(failed._tag).toBe("Left")
      // An interrupted holder releases; an interrupted waiter leaves the line.
      const holder = yield* Effect.fork(lock("k", Effect.never))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(lock("k", Effect.succeed("never ran")))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(holder)
      return yield* lock("k", Effect.succeed("free"))
    })
    expect(await Effect.runPromise(program)).toBe("free")
  })

  it("hands the key to the next in line even if that one is interrupted as it gets it", async () => {
    const lock = makeKeyedLock()
    const program = Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(lock("k", Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(lock("k", Effect.never))
      yield* Effect.yieldNow()
      // The holder finishes (the waiter gets the key) and the waiter is interrupted at once.
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.interrupt(waiter)
      return yield* lock("k", Effect.succeed("free"))
    })
    expect(await Effect.runPromise(program)).toBe("free")
  })
})
