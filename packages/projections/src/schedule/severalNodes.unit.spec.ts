import { EventStore, makeInMemoryEventStore, SpaceId, Spaces, spacesOn, UserId } from "@spaces/domain"
import { Chunk, Context, Effect, Layer, Logger, Stream, TestClock, TestContext } from "effect"
import { describe, expect, it } from "vitest"
import { ReadModels } from "../ReadModels.js"
import { ReadModelsLive } from "../ReadModelsLive.js"
import { SchedulerLive } from "./Scheduler.js"

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
const MIN = 60_000
const host = UserId.make("hana")
/** A Space scheduled 30 minutes after T0: it expires 60 minutes after that. */
const createScheduled = {
  _tag: "CreateSpace" as const,
  spaceId: SpaceId.make("later"),
  by: host,
  title: "Scheduled",
  topics: [],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false,
  scheduledFor: T0 + 30 * MIN
}

/**
 * Every server node runs its own scheduler from its own views of the one log: a due command is
 * issued by each node. This shows it is harmless: the domain records it once, the other nodes'
 * copies are refused (or do nothing) and change nothing.
 */
describe("schedulers on several nodes, one log", () => {
  it("with a scheduler on each of three nodes, a due expiry and a host's grace end are recorded once", async () => {
    const store = makeInMemoryEventStore()
    const logs: Array<string> = []
    // Three nodes: each its own domain service (its own caches), views and scheduler, on one store.
    const node = () =>
      SchedulerLive.pipe(
        Layer.provideMerge(ReadModelsLive.memory()),
        Layer.provideMerge(spacesOn(Layer.succeed(EventStore, store)))
      )
    const log = await Effect.runPromise(
      Effect.gen(function* () {
        yield* TestClock.setTime(T0)
        const nodes = yield* Effect.forEach([node(), node(), node()], (layer) => Layer.build(layer))
        const at = (i: number) => Context.get(nodes[i]!, Spaces)
        const views = nodes.map((n) => Context.get(n, ReadModels))
        const settle = Effect.gen(function* () {
          for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
          for (const v of views)
            while ((yield* v.status).some((s) => s.lagEvents > 0)) yield* Effect.yieldNow()
          for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
        })
        // A scheduled Space (expires 60 min after its time) and a live one whose host walks out.
        yield* at(0).execute(createScheduled)
        yield* at(1).execute({
          _tag: "CreateSpace",
          spaceId: SpaceId.make("now"),
          by: UserId.make("ivo"),
          title: "Live",
          topics: [],
          speakPolicy: "everyone",
          recording: false,
          captions: false
        })
        yield* at(2).execute({ _tag: "LeaveSpace", spaceId: SpaceId.make("now"), by: UserId.make("ivo") })
        yield* settle
        yield* TestClock.adjust(90 * MIN)
        yield* settle
        for (const i of [0, 1, 2]) {
          expect((yield* at(i).space(SpaceId.make("later"))).endReason).toBe("expired")
          expect((yield* at(i).space(SpaceId.make("now"))).endReason).toBe("host_absent")
        }
        return Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(0)))
      }).pipe(
        Effect.scoped,
        Effect.provide(TestContext.TestContext),
        Effect.provide(
          Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ message }) => logs.push(String(message)))
          )
        )
      )
    )
    const types = log.map((r) => `${r.streamId} ${r.type}`)
    expect(types.filter((t) => t === "space-later SpaceExpired")).toHaveLength(1)
    expect(types.filter((t) => t === "space-now SpaceEnded")).toHaveLength(1)
    const issued = logs.filter((l) => l.startsWith("scheduler: ExpireSpace later"))
    expect(issued.filter((l) => l.endsWith("SpaceExpired"))).toHaveLength(1)
  })

  it("the same due command from three nodes at the same moment is recorded once; the others are refused", async () => {
    const store = makeInMemoryEventStore()
    const nodes = [0, 1, 2].map(() => spacesOn(Layer.succeed(EventStore, store)))
    const outcome = await Effect.runPromise(
      Effect.gen(function* () {
        yield* TestClock.setTime(T0)
        const services = yield* Effect.forEach(nodes, (layer) =>
          Effect.map(Layer.build(layer), (ctx) => Context.get(ctx, Spaces))
        )
        const later = SpaceId.make("later")
        yield* services[0]!.execute(createScheduled)
        // Every node loads the Space (their caches now hold it), then the clock passes the expiry.
        for (const s of services) yield* s.space(later)
        yield* TestClock.adjust(90 * MIN)
        const answers = yield* Effect.forEach(
          services,
          (s) => Effect.either(s.execute({ _tag: "ExpireSpace", spaceId: later })),
          { concurrency: "unbounded" }
        )
        const log = Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(0)))
        return { answers, log }
      }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))
    )
    const recorded = outcome.log.filter((r) => r.type === "SpaceExpired")
    expect(recorded).toHaveLength(1)
    const wrote = outcome.answers.filter((a) => a._tag === "Right" && a.right.events.length > 0)
    expect(wrote).toHaveLength(1)
    // The others: refused by the domain (the Space has ended) or nothing to do; never a second event.
    for (const a of outcome.answers.filter((x) => !wrote.includes(x)))
      if (a._tag === "Left") expect(a.left._tag).toMatch(/SpaceHasEnded|WrongSpaceStatus|ConcurrencyConflict/)
      else expect(a.right.events).toHaveLength(0)
  })
})
