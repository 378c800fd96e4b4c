import { Spaces } from "@spaces/domain"
import { Clock, Deferred, Duration, Effect, Layer, Queue, Stream } from "effect"
import { ReadModels } from "../ReadModels.js"
import type { DueCommand } from "../views.js"

/** Far enough to mean "everything pending" in `due` (the port has no "next due" query). */
const EVERYTHING = Number.MAX_SAFE_INTEGER
const HEARTBEAT_MS = 60_000

/**
 * Issues the clock-driven system commands (`ExpireSpace`, `EndAbandonedSpace`) when the schedule
 * view says they fall due: sleeps until the soonest (Effect's Clock, so TestClock drives it) and
 * wakes early when a room changes (a new schedule, a host leaving). A command that is no longer
 * valid (the host came back, someone started the Space, another scheduler got there first) is
 * rejected by the domain: logged and forgotten, never retried in a loop.
 */
export const runScheduler = Effect.gen(function* () {
  const readModels = yield* ReadModels
  const spaces = yield* Spaces
  const wake = yield* Queue.sliding<void>(1)
  const listening = yield* Deferred.make<void>()
  yield* readModels.changes.pipe(
    Stream.filter((change) => change._tag === "Room"),
    Stream.onStart(Deferred.succeed(listening, undefined)),
    Stream.runForEach(() => Queue.offer(wake, undefined)),
    Effect.forkScoped
  )
  yield* Deferred.await(listening)
  // Commands issued and not yet seen applied, so that a lagging view doesn't issue them twice.
  const issued = new Map<string, number>()

  const issue = (due: DueCommand) =>
    spaces.execute({ _tag: due.command, spaceId: due.spaceId }).pipe(
      Effect.flatMap((executed) =>
        Effect.as(
          Effect.logInfo(
            `scheduler: ${due.command} ${due.spaceId}: ${executed.events.map((e) => e._tag).join(", ") || "nothing to do"}`
          ),
          executed.position
        )
      ),
      Effect.catchAll((error) =>
        Effect.zipRight(
          Effect.logInfo(`scheduler: ${due.command} ${due.spaceId} refused: ${error.message}`),
          Effect.map(readModels.positionOf("due"), (p) => p + 1)
        )
      ),
      // Not issued again until the views have moved past what it wrote (or, refused, past now).
      Effect.tap((until) =>
        Effect.sync(() => issued.set(`${due.command} ${due.spaceId} ${due.dueAt}`, until))
      )
    )

  const tick = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const applied = yield* readModels.positionOf("due")
    for (const [key, position] of issued) if (applied >= position) issued.delete(key)
    for (const due of yield* readModels.due(now))
      if (!issued.has(`${due.command} ${due.spaceId} ${due.dueAt}`)) yield* issue(due)
    const next = (yield* readModels.due(EVERYTHING)).find((d) => d.dueAt > now)
    // The heartbeat is a backstop: a change missed while not listening costs at most this delay.
    const sleep = Duration.millis(
      next === undefined ? HEARTBEAT_MS : Math.min(HEARTBEAT_MS, next.dueAt - now)
    )
    yield* Effect.raceFirst(Effect.sleep(sleep), Queue.take(wake))
  })

  yield* Effect.forever(tick)
})

/** The scheduler as a layer: a fiber of the layer's scope, needing the read models and the domain. */
export const SchedulerLive: Layer.Layer<never, never, ReadModels | Spaces> = Layer.scopedDiscard(
  Effect.forkScoped(runScheduler)
)
