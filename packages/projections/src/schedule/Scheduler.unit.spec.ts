import { EventStore, makeInMemoryEventStore, SpaceId, Spaces, spacesOn, UserId } from "@spaces/domain"
import { Effect, Layer, TestClock, TestContext } from "effect"
import { describe, expect, it } from "vitest"
import { ReadModels } from "../ReadModels.js"
import { ReadModelsLive } from "../ReadModelsLive.js"
import { SchedulerLive } from "./Scheduler.js"

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0)
const MIN = 60_000
const s1 = SpaceId.make("s1")
const host = UserId.make("hana")

/** Lets the runners and the scheduler run until the views have applied the whole log. */
const settle = Effect.gen(function* () {
  const readModels = yield* ReadModels
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
  while ((yield* readModels.status).some((s) => s.lagEvents > 0)) yield* Effect.yieldNow()
  for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
})

/** Moves the test clock on, then lets everything that came due run. */
const advance = (ms: number) => Effect.zipRight(TestClock.adjust(ms), settle)

const run = <A, E>(program: Effect.Effect<A, E, Spaces | ReadModels>) => {
  const store = Layer.succeed(EventStore, makeInMemoryEventStore())
  const app = SchedulerLive.pipe(
    Layer.provideMerge(ReadModelsLive.memory()),
    Layer.provideMerge(spacesOn(store))
  )
  return Effect.runPromise(
    Effect.gen(function* () {
      yield* TestClock.setTime(T0)
      return yield* Effect.scoped(Effect.provide(program, app))
    }).pipe(Effect.provide(TestContext.TestContext))
  )
}

const create = (scheduledFor?: number) => ({
  _tag: "CreateSpace" as const,
  spaceId: s1,
  by: host,
  title: "Morning show",
  topics: ["music"],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false,
  ...(scheduledFor === undefined ? {} : { scheduledFor })
})

/** The Spaces service, with s1 scheduled for 30 minutes after T0. */
const scheduledSpace = Effect.gen(function* () {
  const spaces = yield* Spaces
  yield* spaces.execute(create(T0 + 30 * MIN))
  yield* settle
  return spaces
})

/** s1 stays scheduled until `ms` after T0, and is expired from that moment on. */
const expiresAfter = (ms: number) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    yield* advance(ms - 1)
    expect((yield* spaces.space(s1)).status).toBe("scheduled")
    yield* advance(1)
    const state = yield* spaces.space(s1)
    expect(state.status).toBe("ended")
    expect(state.endReason).toBe("expired")
    return state
  })

describe("the scheduler", () => {
  it("expires a scheduled Space an hour after its time, not a moment before", () =>
    run(
      Effect.gen(function* () {
        yield* scheduledSpace
        const state = yield* expiresAfter(90 * MIN)
        expect(state.endedAt).toBe(T0 + 90 * MIN)
      })
    ))

  it("follows a reschedule", () =>
    run(
      Effect.gen(function* () {
        const spaces = yield* scheduledSpace
        yield* spaces.execute({
          _tag: "RescheduleSpace",
          spaceId: s1,
          by: host,
          scheduledFor: T0 + 120 * MIN
        })
        yield* settle
        yield* expiresAfter(180 * MIN)
      })
    ))

  it("ends a Space whose host stays away past the grace period, and not one whose host came back", () =>
    run(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute(create())
        yield* spaces.execute({ _tag: "LeaveSpace", spaceId: s1, by: host })
        yield* settle
        yield* advance(5 * MIN - 1)
        expect((yield* spaces.space(s1)).status).toBe("live")
        // The host comes back just in time, leaves again: a new grace period starts then.
        yield* spaces.execute({ _tag: "JoinSpace", spaceId: s1, by: host })
        yield* spaces.execute({ _tag: "LeaveSpace", spaceId: s1, by: host })
        yield* settle
        yield* advance(1)
        expect((yield* spaces.space(s1)).status).toBe("live")
        yield* advance(5 * MIN - 1)
        const state = yield* spaces.space(s1)
        expect(state.status).toBe("ended")
        expect(state.endReason).toBe("host_absent")
        expect(state.endedAt).toBe(T0 + 10 * MIN - 1)
      })
    ))
})
