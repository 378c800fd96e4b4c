import { Effect } from "effect"
import { describe } from "vitest"
import { scopedEsdbEventStore } from "../esdb/EsdbEventStore.js"
import { eventStoreContract } from "./EventStoreContract.js"

// EventStoreDB cannot run on the build machines (no Docker engine); start one with the repository's
// docker-compose.yml and set EVENTSTORE_CONNECTION_STRING=esdb://localhost:2113?tls=false to run.
const url = process.env.EVENTSTORE_CONNECTION_STRING

describe.skipIf(!url)("EventStoreDB contract (set EVENTSTORE_CONNECTION_STRING to run)", () => {
  eventStoreContract(Effect.suspend(() => scopedEsdbEventStore({ connectionString: url ?? "" })))
})
