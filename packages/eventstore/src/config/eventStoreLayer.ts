import type { CheckpointStore, EventStore, EventStoreUnavailable } from "@spaces/domain"
import { Config, Effect, Layer, Option } from "effect"
import { EsdbEventStore } from "../esdb/EsdbEventStore.js"
import type { SqliteSynchronous } from "../sqlite/schema.js"
import { SqliteEventStore } from "../sqlite/SqliteEventStore.js"

/** Where the event log lives: the embedded SQLite file (default) or an EventStoreDB server. */
export type EventStoreConfig =
  | { readonly kind: "sqlite"; readonly path: string; readonly synchronous: SqliteSynchronous }
  | { readonly kind: "esdb"; readonly connectionString: string }

export const DEFAULT_DB_PATH = "./.data/spaces.sqlite"

/**
 * Reads the store's configuration (from the environment by default):
 * - `EVENTSTORE_CONNECTION_STRING` set → EventStoreDB at that address;
 * - otherwise SQLite at `SPACES_DB_PATH` (default `./.data/spaces.sqlite`) with
 *   `SPACES_DB_SYNCHRONOUS` = `normal` (default) or `full`.
 */
export const eventStoreConfig: Config.Config<EventStoreConfig> = Config.all({
  connectionString: Config.option(Config.nonEmptyString("EVENTSTORE_CONNECTION_STRING")),
  path: Config.withDefault(Config.nonEmptyString("SPACES_DB_PATH"), DEFAULT_DB_PATH),
  synchronous: Config.withDefault(
    Config.literal("normal", "full")("SPACES_DB_SYNCHRONOUS"),
    "normal" as const
  )
}).pipe(
  Config.map(
    ({ connectionString, path, synchronous }): EventStoreConfig =>
      Option.isSome(connectionString)
        ? { kind: "esdb", connectionString: connectionString.value }
        : { kind: "sqlite", path, synchronous }
  )
)

/** The `EventStore` and `CheckpointStore` layer for a configuration. */
export const eventStoreLayer = (
  config: EventStoreConfig
): Layer.Layer<EventStore | CheckpointStore, EventStoreUnavailable> =>
  config.kind === "esdb"
    ? EsdbEventStore.layer({ connectionString: config.connectionString })
    : SqliteEventStore.layer({ path: config.path, synchronous: config.synchronous })

/** The store chosen by the configuration in the environment: the composition root's one call. */
export const EventStoreFromConfig: Layer.Layer<
  EventStore | CheckpointStore,
  EventStoreUnavailable | import("effect").ConfigError.ConfigError
> = Layer.unwrapEffect(Effect.map(eventStoreConfig, eventStoreLayer))
