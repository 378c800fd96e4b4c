import { ConfigProvider, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { DEFAULT_DB_PATH, eventStoreConfig } from "./eventStoreLayer.js"

const read = (env: Record<string, string>) =>
  Effect.runSync(
    Effect.either(
      Effect.withConfigProvider(eventStoreConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
  )

describe("event store selection", () => {
  it("defaults to the embedded SQLite file with synchronous=NORMAL", () => {
    expect(read({})).toMatchObject({
      right: { kind: "sqlite", path: DEFAULT_DB_PATH, synchronous: "normal" }
    })
  })

  it("takes the SQLite path and durability from SPACES_DB_PATH and SPACES_DB_SYNCHRONOUS", () => {
    expect(
      read({ SPACES_DB_PATH: "/var/lib/spaces/log.sqlite", SPACES_DB_SYNCHRONOUS: "full" })
    ).toMatchObject({
      right: { kind: "sqlite", path: "/var/lib/spaces/log.sqlite", synchronous: "full" }
    })
    expect(read({ SPACES_DB_SYNCHRONOUS: "sometimes" })._tag).toBe("Left")
  })

  it("selects EventStoreDB when EVENTSTORE_CONNECTION_STRING is set", () => {
    expect(
      read({ EVENTSTORE_CONNECTION_STRING: "esdb://localhost:2113?tls=false", SPACES_DB_PATH: "x" })
    ).toMatchObject({
      right: { kind: "esdb", connectionString: "esdb://localhost:2113?tls=false" }
    })
  })

  it("selects PostgreSQL with SPACES_POSTGRES_URL, or a postgres:// EVENTSTORE_CONNECTION_STRING", () => {
    expect(read({ SPACES_POSTGRES_URL: "postgres://spaces@db:5432/spaces" })).toMatchObject({
      right: { kind: "postgres", connectionString: "postgres://spaces@db:5432/spaces" }
    })
    expect(read({ EVENTSTORE_CONNECTION_STRING: "postgresql://spaces@db/spaces" })).toMatchObject({
      right: { kind: "postgres", connectionString: "postgresql://spaces@db/spaces" }
    })
  })

  it("refuses a SPACES_POSTGRES_URL of another scheme, and both store variables at once", () => {
    expect(read({ SPACES_POSTGRES_URL: "mysql://db/spaces" })._tag).toBe("Left")
    expect(
      read({
        SPACES_POSTGRES_URL: "postgres://db/spaces",
        EVENTSTORE_CONNECTION_STRING: "esdb://localhost:2113?tls=false"
      })._tag
    ).toBe("Left")
  })
})
