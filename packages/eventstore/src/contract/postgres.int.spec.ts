import { Effect } from "effect"
import { afterAll, beforeAll, describe } from "vitest"
import { scopedPostgresEventStore } from "../postgres/PostgresEventStore.js"
import { type PostgresCluster, startPostgresCluster } from "../postgres/testing/cluster.js"
import { eventStoreContract } from "./EventStoreContract.js"

// A real cluster started by the test (initdb into a temp dir, unix socket only), stopped at the end.
// One database shared by the tests, as with EventStoreDB; each test opens (and closes) its own store.
let cluster: PostgresCluster
let url: string
beforeAll(async () => {
  cluster = await startPostgresCluster({ settings: { fsync: "off" } })
  url = await cluster.createDatabase()
})
afterAll(() => cluster?.stop())

describe("PostgreSQL event store contract", () => {
  eventStoreContract(
    Effect.suspend(() => scopedPostgresEventStore({ connectionString: url })),
    { multiStream: true }
  )
})
