import { Layer } from "effect"
import type { EventStore } from "./eventstore/EventStore.js"
import { InMemoryEventStore } from "./eventstore/InMemoryEventStore.js"
import { FollowerCounts, HostingPolicy } from "./handler/HostingPolicy.js"
import { IdGenerator } from "./handler/IdGenerator.js"
import { makeSpacesWith, Spaces, type SpacesOptions } from "./handler/Spaces.js"
import { Rules } from "./rules/RoomRules.js"
import type { RoomRules } from "./rules/RoomRules.js"

/**
 * The application service over a given event store layer, with the rules, the hosting policy they
 * ask for, and random ids. The store stays visible to the caller (for reads and projections).
 */
export const spacesOn = <E, R>(
  store: Layer.Layer<EventStore, E, R>,
  options: { readonly rules?: RoomRules } & SpacesOptions = {}
) => {
  const { rules, ...handler } = options
  const base = Layer.mergeAll(rules === undefined ? Rules.Default : Rules.layer(rules), IdGenerator.Default)
  const policy = HostingPolicy.fromRules.pipe(Layer.provide(FollowerCounts.fromLog), Layer.provide(base))
  return Layer.effect(Spaces, makeSpacesWith(handler)).pipe(
    Layer.provideMerge(Layer.mergeAll(policy, base)),
    Layer.provideMerge(store)
  )
}

/** Everything in memory: for tests and for embedding the domain in another service. */
export const InMemorySpaces = (rules?: RoomRules) =>
  spacesOn(InMemoryEventStore, rules === undefined ? {} : { rules })
