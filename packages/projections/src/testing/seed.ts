import { EventStore, type EventStoreShape, spacesOn } from "@spaces/domain"
import { Effect, Layer, TestClock, TestContext } from "effect"
import fc from "fast-check"
import { runSteps, stepArb } from "./history.js"

/** Writes a generated, valid history of about `steps` commands into `store` (deterministic per seed). */
export const seedLog = (store: EventStoreShape, steps: number, seed: number) => {
  const [history] = fc.sample(fc.array(stepArb, { minLength: steps, maxLength: steps, size: "max" }), {
    seed,
    numRuns: 1
  })
  return Effect.gen(function* () {
    yield* TestClock.setTime(Date.UTC(2026, 10, 24, 12))
    yield* runSteps(history ?? []).pipe(Effect.provide(spacesOn(Layer.succeed(EventStore, store))))
  }).pipe(Effect.provide(TestContext.TestContext))
}
