import { Effect, Layer, Random, Stream } from "effect"
import { EventStore, type EventStoreShape } from "../eventstore/EventStore.js"
import { makeInMemoryEventStore } from "../eventstore/InMemoryEventStore.js"

/**
 * The in-memory store with I/O-like pauses: each operation yields to other fibers a random number
 * of times first, so that concurrent commands really interleave between read and append, as they
 * would against a store across a network.
 */
export const interleaving = (store: EventStoreShape = makeInMemoryEventStore()): EventStoreShape => {
  const pause = Effect.flatMap(Random.nextIntBetween(0, 4), (n) => Effect.repeatN(Effect.yieldNow(), n))
  return {
    append: (stream, events, expected) => Effect.zipRight(pause, store.append(stream, events, expected)),
    ...(store.appendMany === undefined
      ? {}
      : { appendMany: (appends) => Effect.zipRight(pause, store.appendMany!(appends)) }),
    readStream: (stream, options) => Effect.zipRight(pause, store.readStream(stream, options)),
    readAll: (from) => Stream.unwrap(Effect.as(pause, store.readAll(from))),
    subscribeAll: (from) => store.subscribeAll(from)
  }
}

export const InterleavingEventStore = Layer.sync(EventStore, () => interleaving())

/** The store without its multi-stream append, as EventStoreDB's adapter is: one stream at a time. */
export const oneStreamAtATime = (store: EventStoreShape): EventStoreShape => {
  const { appendMany: _, ...rest } = store
  return rest
}
