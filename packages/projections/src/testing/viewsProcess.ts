/**
 * A read-models process for the crash tests: runs the SQLite runners over the SQLite log at
 * argv[2] into the views file argv[3], one event per page so that there are many commits to be
 * killed between, printing its position as it goes. Runs until killed.
 */
import { SqliteEventStore } from "@spaces/eventstore"
import { Effect, Layer } from "effect"
import { ReadModels } from "../ReadModels.js"
import { ReadModelsLive } from "../ReadModelsLive.js"

const [logPath, viewsPath] = process.argv.slice(2) as [string, string]
const layer = ReadModelsLive.sqlite({ path: viewsPath, fanOutThreshold: 2 }).pipe(
  Layer.provide(SqliteEventStore.layer({ path: logPath, pageSize: 1 }))
)
await Effect.runPromise(
  Effect.scoped(
    Effect.gen(function* () {
      const readModels = yield* ReadModels
      let printed = -1
      for (;;) {
        const position = yield* readModels.position
        if (position !== printed) process.stdout.write(`position ${position}\n`)
        printed = position
        yield* Effect.yieldNow()
      }
    }).pipe(Effect.provide(layer))
  )
)
