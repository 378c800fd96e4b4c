import type { EventStoreShape, RecordedEvent } from "@spaces/domain"
import { Effect } from "effect"
import { expect } from "vitest"
import { event } from "./EventStoreContract.js"

/**
 * Seventeen appends at once on a store whose "shared" stream holds one event: twelve to streams of
 * their own (two events each), four racing on the same expected revision of "shared", and last
 * `failing`, one the store must refuse. The outcome of each, in that order: "ok" or the error's tag.
 */
export const concurrentAppends = (store: EventStoreShape, failing: ReturnType<EventStoreShape["append"]>) =>
  Effect.all(
    [
      ...Array.from({ length: 12 }, (_, i) => store.append(`own-${i}`, [event(), event()], "no_stream")),
      // Same expected revision: exactly one wins, the others see the conflict.
      ...Array.from({ length: 4 }, () => store.append("shared", [event()], 0)),
      failing
    ].map((append) => Effect.either(append)),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((outcomes) => outcomes.map((o) => (o._tag === "Right" ? "ok" : o.left._tag))))

/** Each of the concurrent appends got its own outcome: the failing one alone failed. */
export const expectOwnOutcomes = (tags: ReadonlyArray<string>) => {
  expect(tags.slice(0, 12)).toEqual(Array(12).fill("ok"))
  expect(tags.slice(12, 16).sort()).toEqual([
    "WrongExpectedVersion",
    "WrongExpectedVersion",
    "WrongExpectedVersion",
    "ok"
  ])
  expect(tags[16]).toBe("EventStoreUnavailable")
}

/** The log after the concurrent appends: the first event, the 24 own ones and the winner, numbered 1.. */
export const expectLogAfterConcurrentAppends = (log: ReadonlyArray<RecordedEvent>) => {
  expect(log).toHaveLength(1 + 24 + 1)
  expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1))
}
