export * from "./EventStore.js"
export * from "./EventStoreError.js"
export * from "./InMemoryEventStore.js"
export * from "./liveTail.js"
