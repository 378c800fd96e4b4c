import { createReadStream, createWriteStream } from "node:fs"
import type { Readable, Writable } from "node:stream"
import { finished } from "node:stream/promises"
import { EventStore } from "@spaces/domain"
import { Cause, ConfigProvider, Effect, Option } from "effect"
import { describeEventStore, eventStoreConfig, eventStoreLayer } from "../config/eventStoreLayer.js"
import { exportLog, importLog } from "./eventLogFile.js"

const USAGE = `usage: eventlog export <file|->   write the whole log as JSON lines ("-" = stdout)
       eventlog import <file|->   append a JSON-lines log to the configured store ("-" = stdin)

The store comes from the environment: SPACES_POSTGRES_URL (PostgreSQL) if set, else
EVENTSTORE_CONNECTION_STRING (EventStoreDB, or PostgreSQL for a postgres:// URL) if set,
otherwise the SQLite file SPACES_DB_PATH (default ./.data/spaces.sqlite).
`

export interface CliIo {
  readonly stdin: Readable
  readonly stdout: Writable
  readonly stderr: Writable
  readonly env: Record<string, string | undefined>
}

/** Runs `eventlog <command> <file|->`; resolves to the process exit code. */
export const runCli = async (args: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const [command, target] = args
  if ((command !== "export" && command !== "import") || target === undefined) {
    io.stderr.write(USAGE)
    return 2
  }
  const env = new Map(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined))
  const started = Date.now()
  const progress = {
    onProgress: (count: number) => {
      const seconds = (Date.now() - started) / 1000
      io.stderr.write(`${command}ed ${count.toLocaleString("en-US")} events (${seconds.toFixed(1)} s)\n`)
    }
  }

  const transfer = Effect.gen(function* () {
    const store = yield* EventStore
    if (command === "export") {
      const output = target === "-" ? io.stdout : createWriteStream(target)
      const count = yield* exportLog(store, output, progress)
      if (output !== io.stdout) {
        output.end()
        yield* Effect.promise(() => finished(output))
      }
      return count
    }
    const input = target === "-" ? io.stdin : createReadStream(target)
    return yield* importLog(store, input, progress)
  })
  const program = Effect.flatMap(eventStoreConfig, (config) => {
    const file = target === "-" ? (command === "export" ? "stdout" : "stdin") : target
    io.stderr.write(`${command} ${file} ⇄ ${describeEventStore(config)}\n`)
    return Effect.provide(transfer, eventStoreLayer(config))
  })

  const exit = await Effect.runPromiseExit(
    program.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env)))
  )
  if (exit._tag === "Success") {
    io.stderr.write(`done: ${exit.value.toLocaleString("en-US")} events\n`)
    return 0
  }
  const failure = Cause.failureOption(exit.cause)
  io.stderr.write(`failed: ${Option.isSome(failure) ? failure.value.message : Cause.pretty(exit.cause)}\n`)
  return 1
}
