import type { CheckpointStore, EventStore, EventStoreUnavailable } from "@spaces/domain"
import { Config, ConfigError, Either, type Layer, Option } from "effect"
import { EsdbEventStore } from "../esdb/EsdbEventStore.js"
import { PostgresEventStore } from "../postgres/PostgresEventStore.js"
import type { SqliteSynchronous } from "../sqlite/schema.js"
import { SqliteEventStore } from "../sqlite/SqliteEventStore.js"

/** Where the event log lives: the embedded SQLite file (default), PostgreSQL or an EventStoreDB server. */
export type EventStoreConfig =
  | { readonly kind: "sqlite"; readonly path: string; readonly synchronous: SqliteSynchronous }
  | { readonly kind: "postgres"; readonly connectionString: string }
  | { readonly kind: "esdb"; readonly connectionString: string }

export const DEFAULT_DB_PATH = "./.data/spaces.sqlite"

const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//i.test(url)

/**
 * Reads the store's configuration (from the environment by default):
 * - `SPACES_POSTGRES_URL` set (a `postgres://` or `postgresql://` URL) → PostgreSQL;
 * - `EVENTSTORE_CONNECTION_STRING` set → PostgreSQL if its scheme is `postgres://` or
 *   `postgresql://`, otherwise EventStoreDB at that address (setting both variables is an error);
 * - otherwise SQLite at `SPACES_DB_PATH` (default `./.data/spaces.sqlite`) with
 *   `SPACES_DB_SYNCHRONOUS` = `normal` (default) or `full`.
 */
export const eventStoreConfig: Config.Config<EventStoreConfig> = Config.all({
  postgresUrl: Config.option(
    Config.nonEmptyString("SPACES_POSTGRES_URL").pipe(
      Config.validate({
        message: "expected a postgres:// or postgresql:// connection string",
        validation: isPostgresUrl
      })
    )
  ),
  connectionString: Config.option(Config.nonEmptyString("EVENTSTORE_CONNECTION_STRING")),
  path: Config.withDefault(Config.nonEmptyString("SPACES_DB_PATH"), DEFAULT_DB_PATH),
  synchronous: Config.withDefault(
    Config.literal("normal", "full")("SPACES_DB_SYNCHRONOUS"),
    "normal" as const
  )
}).pipe(
  Config.mapOrFail(({ postgresUrl, connectionString, path, synchronous }) => {
    if (Option.isSome(postgresUrl) && Option.isSome(connectionString))
      return Either.left(
        ConfigError.InvalidData(
          [],
          "SPACES_POSTGRES_URL and EVENTSTORE_CONNECTION_STRING are both set: set only the store you mean"
        )
      )
    if (Option.isSome(postgresUrl))
      return Either.right<EventStoreConfig>({ kind: "postgres", connectionString: postgresUrl.value })
    if (Option.isSome(connectionString))
      return Either.right<EventStoreConfig>(
        isPostgresUrl(connectionString.value)
          ? { kind: "postgres", connectionString: connectionString.value }
          : { kind: "esdb", connectionString: connectionString.value }
      )
    return Either.right<EventStoreConfig>({ kind: "sqlite", path, synchronous })
  })
)

/** The store in words, for CLIs' progress lines (a PostgreSQL password is masked). */
export const describeEventStore = (config: EventStoreConfig): string =>
  config.kind === "esdb"
    ? `EventStoreDB at ${config.connectionString}`
    : config.kind === "postgres"
      ? `PostgreSQL at ${config.connectionString.replace(/^(\w+:\/\/[^:/@]*):[^@]*@/, "$1:***@")}`
      : `SQLite file ${config.path}`

/** The `EventStore` and `CheckpointStore` layer for a configuration. */
export const eventStoreLayer = (
  config: EventStoreConfig
): Layer.Layer<EventStore | CheckpointStore, EventStoreUnavailable> =>
  config.kind === "esdb"
    ? EsdbEventStore.layer({ connectionString: config.connectionString })
    : config.kind === "postgres"
      ? PostgresEventStore.layer({ connectionString: config.connectionString })
      : // The server's configuration: its requests arrive on many sockets, one callback each.
        SqliteEventStore.layer({
          path: config.path,
          synchronous: config.synchronous,
          groupCommit: "loopTurn"
        })
