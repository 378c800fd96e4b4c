import { createRequire } from "node:module"

type Client = typeof import("@eventstore/db-client")

let loaded: Client | undefined

/**
 * EventStoreDB's client library, loaded on first use: it brings gRPC and protobuf (about 150
 * modules), which a server on another store never needs at start.
 */
export const esdbClient = (): Client => {
  loaded ??= createRequire(import.meta.url)("@eventstore/db-client") as Client
  return loaded
}
