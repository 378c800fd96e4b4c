import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe } from "vitest"
import type { SqliteSynchronous } from "../sqlite/schema.js"
import { scopedSqliteEventStore } from "../sqlite/SqliteEventStore.js"
import { eventStoreContract } from "./EventStoreContract.js"

/** A fresh database file per test, removed with the test's scope. */
const freshFile = (synchronous: SqliteSynchronous) =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "spaces-contract-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    return yield* scopedSqliteEventStore({ path: join(dir, "events.sqlite"), synchronous })
  })

describe("SQLite event store contract (synchronous=NORMAL)", () => {
  eventStoreContract(freshFile("normal"), { multiStream: true })
})

describe("SQLite event store contract (synchronous=FULL)", () => {
  eventStoreContract(freshFile("full"), { multiStream: true })
})
