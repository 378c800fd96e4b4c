import { makeInMemoryEventStore } from "@spaces/domain"
import { Effect } from "effect"
import { describe } from "vitest"
import { eventStoreContract } from "./EventStoreContract.js"

describe("in-memory event store contract", () => {
  eventStoreContract(Effect.sync(makeInMemoryEventStore), { multiStream: true })
})
