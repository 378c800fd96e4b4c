import type { Writable } from "node:stream"
import {
  EventStore,
  type EventStoreShape,
  SpaceId,
  Spaces,
  SpaceState,
  spaceAsOf,
  spaceLog,
  spacesOn
} from "@spaces/domain"
import { describeEventStore, eventStoreConfig, eventStoreLayer } from "@spaces/eventstore"
import { Cause, ConfigProvider, Effect, Option, Schema, Stream } from "effect"
import { viewsPathConfig } from "../config.js"
import { projections } from "../ReadModelsLive.js"
import { rebuildProjections } from "../runner/rebuild.js"
import { makeSqliteStorage } from "../store/SqliteStorage.js"

const USAGE = `usage: spaces rebuild [name|all]     drop read models and replay the log into them
       spaces status                  each projection's checkpoint, the log's head, the lag
       spaces replay <spaceId> [--position N | --at ISO-time]
                                      a Space's state at that point (default: now) and its event log
       spaces end <spaceId> --reason <text> [--operator <name>]
                                      end a scheduled or live Space as an operator (default name:
                                      cli); the reason is kept in the log. Works on a stopped or a
                                      running server's log (a running server follows it)

Projections: ${projections()
  .map((p) => p.name)
  .join(", ")}
The log comes from SPACES_POSTGRES_URL (PostgreSQL) if set, else EVENTSTORE_CONNECTION_STRING
(EventStoreDB, or PostgreSQL for a postgres:// URL) if set, else the SQLite file SPACES_DB_PATH (default ./.data/spaces.sqlite); the read models from SPACES_VIEWS_PATH (default:
beside the log, spaces.views.sqlite).
`

export interface CliIo {
  readonly stdout: Writable
  readonly stderr: Writable
  readonly env: Record<string, string | undefined>
  /** Whether stderr is a terminal (then the progress bar redraws in place). */
  readonly tty?: boolean
}

class Usage extends Error {}

const fmt = (n: number) => n.toLocaleString("en-US")

/**
 * The log's last position: asked of the store where it can answer without reading, else read from
 * `from` on (cheap when `from` is close to the end; a rebuild's whole log otherwise).
 */
const headOf = (store: EventStoreShape, from: number) =>
  store.head?.() ?? Stream.runFold(store.readAll(from), from, (_, event) => event.position)

const progressBar = (io: CliIo, name: string, total: number) => {
  const started = Date.now()
  let drawn = 0
  return {
    update: (position: number, applied: number, final = false) => {
      const now = Date.now()
      if (!final && now - drawn < 100) return
      drawn = now
      const ratio = total === 0 ? 1 : Math.min(1, position / total)
      const width = 30
      const filled = Math.round(ratio * width)
      const rate = applied / Math.max(0.001, (now - started) / 1000)
      const line = `${name.padEnd(9)} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${fmt(position)}/${fmt(total)} ${fmt(Math.round(rate))} events/s`
      io.stderr.write(io.tty === true ? `\r${line}${final ? "\n" : ""}` : final ? `${line}\n` : "")
    }
  }
}

const rebuild = (io: CliIo, which: string, viewsPath: string) =>
  Effect.gen(function* () {
    const selected = projections().filter((p) => which === "all" || p.name === which)
    if (selected.length === 0) return yield* Effect.die(new Usage(`no projection named ${which}`))
    const store = yield* EventStore
    const head = yield* headOf(store, 0)
    const storage = yield* Effect.acquireRelease(
      Effect.sync(() => makeSqliteStorage({ path: viewsPath })),
      (s) => Effect.sync(s.close)
    )
    // One pass over the log for all of them: each event is read and decoded once.
    const bar = progressBar(io, which, head)
    const { position, applied } = yield* rebuildProjections(store, storage, selected, bar.update)
    bar.update(position, applied, true)
    io.stdout.write(`rebuilt ${selected.map((p) => p.name).join(", ")} up to position ${fmt(head)}\n`)
  })

const status = (io: CliIo, viewsPath: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const storage = yield* Effect.acquireRelease(
      Effect.sync(() => makeSqliteStorage({ path: viewsPath })),
      (s) => Effect.sync(s.close)
    )
    const rows = projections().map((p) => ({
      projection: p,
      checkpoint: storage.projection(p.name).checkpoint()
    }))
    const head = yield* headOf(store, Math.min(...rows.map((r) => r.checkpoint?.position ?? 0)))
    const width = Math.max("projection".length, ...rows.map((r) => r.projection.name.length))
    io.stdout.write(
      `${"projection".padEnd(width)} ${"version".padStart(7)} ${"checkpoint".padStart(12)} ${"head".padStart(12)} ${"lag".padStart(10)}  state\n`
    )
    for (const { projection, checkpoint } of rows) {
      const position = checkpoint?.position ?? 0
      const state =
        checkpoint === undefined
          ? "never run"
          : checkpoint.error !== null
            ? `failed: ${checkpoint.error}`
            : checkpoint.version !== projection.version
              ? `stale (stored v${checkpoint.version}; rebuilds on next start)`
              : position >= head
                ? "up to date"
                : "behind"
      io.stdout.write(
        `${projection.name.padEnd(width)} ${String(checkpoint?.version ?? projection.version).padStart(7)} ${fmt(position).padStart(12)} ${fmt(head).padStart(12)} ${fmt(Math.max(0, head - position)).padStart(10)}  ${state}\n`
      )
    }
  })

const replay = (io: CliIo, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const [id, flag, value] = args
    if (id === undefined) return yield* Effect.die(new Usage("replay needs a Space id"))
    const spaceId = yield* Schema.decodeUnknown(SpaceId)(id).pipe(
      Effect.orElse(() => Effect.die(new Usage(`not a Space id: ${id}`)))
    )
    let asOf: { readonly position: number } | { readonly time: number } = {
      position: Number.MAX_SAFE_INTEGER
    }
    if (flag === "--position" && value !== undefined && /^\d+$/.test(value))
      asOf = { position: Number(value) }
    else if (flag === "--at" && value !== undefined && !Number.isNaN(Date.parse(value)))
      asOf = { time: Date.parse(value) }
    else if (flag !== undefined) return yield* Effect.die(new Usage(`bad option ${flag} ${value ?? ""}`))
    const log = yield* spaceLog(spaceId)
    if (log.length === 0) return yield* Effect.die(new Usage(`no Space ${spaceId} in the log`))
    const { state, revision } = yield* spaceAsOf(spaceId, asOf)
    const point = "position" in asOf ? (flag === undefined ? "now" : `position ${asOf.position}`) : `${value}`
    io.stdout.write(`Space ${spaceId} as of ${point} (revision ${revision}):\n`)
    io.stdout.write(`${JSON.stringify(Schema.encodeSync(SpaceState)(state), null, 2)}\n\nlog:\n`)
    for (const entry of log) {
      const mark = revision >= entry.revision ? " " : "·"
      const { _tag, spaceId: _, ...data } = entry.event
      io.stdout.write(
        `${mark} ${String(entry.position).padStart(8)} r${String(entry.revision).padEnd(5)} ${new Date(entry.metadata.recordedAt).toISOString()} ${_tag} ${JSON.stringify(data)}\n`
      )
    }
  })

/** The value after `--name`, if the flag is there. */
const flagValue = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args[at + 1]
}

/**
 * The operator's end from the shell: the command goes through the domain like the HTTP route's,
 * appending at the Space's revision, so it is safe beside a running server on the same log (the
 * SQLite store takes the write lock per append; the server sees the commit and follows it).
 */
const end = (io: CliIo, args: ReadonlyArray<string>, storeLayer: ReturnType<typeof eventStoreLayer>) =>
  Effect.gen(function* () {
    const [id] = args
    if (id === undefined || id.startsWith("--")) return yield* Effect.die(new Usage("end needs a Space id"))
    const spaceId = yield* Schema.decodeUnknown(SpaceId)(id).pipe(
      Effect.orElse(() => Effect.die(new Usage(`not a Space id: ${id}`)))
    )
    const reason = flagValue(args, "--reason")?.trim()
    if (reason === undefined || reason === "" || reason.length > 500)
      return yield* Effect.die(new Usage("end needs --reason <text> (1-500 characters)"))
    const operator = flagValue(args, "--operator") ?? "cli"
    if (operator.length === 0 || operator.length > 128)
      return yield* Effect.die(new Usage("--operator must be 1-128 characters"))
    const spaces = yield* Spaces
    const out = yield* spaces
      .execute({ _tag: "EndSpaceByOperator", spaceId, operator, reason })
      .pipe(Effect.mapError((error) => new Error(`${error._tag}: ${error.message}`)))
    io.stdout.write(`ended Space ${spaceId} at position ${out.position} (operator ${operator}): ${reason}\n`)
  }).pipe(Effect.provide(spacesOn(storeLayer)))

/** Runs `spaces <command> …`; resolves to the process exit code. */
export const runCli = async (args: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const [command, ...rest] = args
  if (command !== "rebuild" && command !== "status" && command !== "replay" && command !== "end") {
    io.stderr.write(USAGE)
    return 2
  }
  const env = new Map(Object.entries(io.env).filter((e): e is [string, string] => e[1] !== undefined))
  const program = Effect.gen(function* () {
    const config = yield* eventStoreConfig
    const viewsPath = yield* viewsPathConfig
    io.stderr.write(`log: ${describeEventStore(config)}; read models: ${viewsPath}\n`)
    const storeLayer = eventStoreLayer(config)
    if (command === "end") return yield* Effect.scoped(end(io, rest, storeLayer))
    const work =
      command === "rebuild"
        ? rebuild(io, rest[0] ?? "all", viewsPath)
        : command === "status"
          ? status(io, viewsPath)
          : replay(io, rest)
    return yield* Effect.scoped(Effect.provide(work, storeLayer))
  })
  const exit = await Effect.runPromiseExit(
    program.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(env)))
  )
  if (exit._tag === "Success") return 0
  const defect = Cause.dieOption(exit.cause)
  if (Option.isSome(defect) && defect.value instanceof Usage) {
    io.stderr.write(`${defect.value.message}\n\n${USAGE}`)
    return 2
  }
  const failure = Cause.failureOption(exit.cause)
  io.stderr.write(`failed: ${Option.isSome(failure) ? failure.value.message : Cause.pretty(exit.cause)}\n`)
  return 1
}
