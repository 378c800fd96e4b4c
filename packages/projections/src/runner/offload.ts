import { Worker } from "node:worker_threads"
import type { RecordedEvent } from "@spaces/domain"
import { Effect } from "effect"
import {
  type FromWorker,
  failureFromWire,
  type ProjectionsOptions,
  type ToWorker,
  type WorkerSetup
} from "./offloadProtocol.js"
import type { Projection } from "./Projection.js"
import type { RebuildFailure } from "./rebuildPass.js"

/**
 * Some projections of a rebuild stepped on a second core: a worker thread with its own
 * connection to the views file (a SQLite file, not `:memory:`) builds them with
 * `projections(options)`, so they must be the ones `projections(options)` builds (checked by name
 * and version), from the batches of the log the main thread reads and posts it.
 */
export interface Offload {
  /** The views file the rebuild's storage writes. */
  readonly viewsPath: string
  /** The projections the worker rebuilds (those of them being rebuilt). */
  readonly names: ReadonlyArray<string>
  /** The options the rebuilt projections were built with. */
  readonly options?: ProjectionsOptions
  /**
   * The log's SQLite file, when the log is one: the worker then reads it itself (a second reader
   * of the WAL file) instead of being posted each batch, which costs this thread a copy of it.
   * Each side reads to the end it finds; each projection's checkpoint is where its rows are.
   */
  readonly logPath?: string
}

/**
 * The projections a rebuild steps in a worker by default: the feed, whose steps (an inbox row
 * written or deleted per follower at every entry and exit) are about as much work as all the
 * others' together.
 */
export const OFFLOADED_BY_DEFAULT: ReadonlyArray<string> = ["feed"]

/** Batches posted and not yet stepped by the worker: the reader stays at most this far ahead. */
const IN_FLIGHT = 2

/**
 * Waits for the other connection's write lock: the worker and the main thread each write their
 * projections in one transaction, which on a big log can take longer than the views' usual wait.
 */
export const REBUILD_BUSY_TIMEOUT_MS = 600_000

/**
 * Starts the worker's module, beside this one: compiled, or as TypeScript (under tsx or a test
 * runner, whose loader a worker thread does not inherit: it registers tsx's before importing).
 */
const spawn = (setup: WorkerSetup): Worker => {
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./rebuildWorker.js", import.meta.url), { workerData: setup })
  const entry = new URL("./rebuildWorker.ts", import.meta.url).href
  const boot = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(boot, { eval: true, workerData: setup, execArgv: ["--conditions=@spaces/source"] })
}

export interface RebuildWorker {
  /**
   * Posts a batch (unless the worker reads the log itself); waits while `IN_FLIGHT` batches are
   * still being stepped. Fails with the worker's failure.
   */
  readonly post: (events: ReadonlyArray<RecordedEvent>) => Effect.Effect<void, RebuildFailure>
  /** The lowest position and applied count the worker's projections have stepped. */
  readonly position: () => number
  readonly applied: () => number
  /**
   * The log is read (or this side failed): the worker publishes what it stepped and stops (when
   * it reads the log itself: once it has read it to its end, or at once after a failure here).
   */
  readonly finish: (
    failed: boolean
  ) => Effect.Effect<{ readonly position: number; readonly applied: number }, RebuildFailure>
  /** Stops the thread at once (after `finish`, or when the rebuild is interrupted). */
  readonly terminate: Effect.Effect<void>
}

/** Starts a worker for `offloaded` and waits until it has reset them. */
export const startRebuildWorker = (
  offload: Offload,
  offloaded: ReadonlyArray<Projection>
): Effect.Effect<RebuildWorker> =>
  Effect.async<RebuildWorker>((resume) => {
    const setup: WorkerSetup = {
      viewsPath: offload.viewsPath,
      names: offloaded.map((p) => p.name),
      options: offload.options ?? {},
      busyTimeoutMs: REBUILD_BUSY_TIMEOUT_MS,
      ...(offload.logPath === undefined ? {} : { logPath: offload.logPath })
    }
    const worker = spawn(setup)
    let position = 0
    let applied = 0
    let inFlight = 0
    let failure: RebuildFailure | undefined
    let done: { readonly position: number; readonly applied: number } | undefined
    /** The thread's crash (an exception, an exit before `done`): a defect of the rebuild. */
    let crashed: unknown
    /** Wakes whoever waits for the worker (a free slot, or `done`). */
    let wake = () => {}
    const woken = () =>
      Effect.async<void>((resume) => {
        wake = () => {
          wake = () => {}
          resume(Effect.void)
        }
      })

    worker.on("message", (message: FromWorker) => {
      if (message.kind === "ready") {
        const mismatch = offloaded.find(
          (p) => !message.versions.some(([name, version]) => name === p.name && version === p.version)
        )
        started = true
        if (mismatch !== undefined) {
          void worker.terminate()
          resume(
            Effect.dieMessage(`rebuild worker: projection ${mismatch.name} is not projections(options)'s`)
          )
          return
        }
        resume(Effect.succeed(handle))
        return
      }
      position = message.position
      applied = message.applied
      if (message.failure !== undefined) failure ??= failureFromWire(message.failure)
      if (message.kind === "applied") inFlight--
      else done = { position, applied }
      wake()
    })
    worker.on("error", (error) => {
      crashed ??= error
      wake()
    })
    worker.on("exit", (code) => {
      if (done === undefined) crashed ??= new Error(`rebuild worker exited (${code}) before it was done`)
      wake()
    })

    const check = (): Effect.Effect<void, RebuildFailure> =>
      crashed !== undefined ? Effect.die(crashed) : failure !== undefined ? Effect.fail(failure) : Effect.void

    const post = (events: ReadonlyArray<RecordedEvent>): Effect.Effect<void, RebuildFailure> =>
      Effect.suspend(() => {
        if (crashed !== undefined || failure !== undefined || setup.logPath !== undefined) return check()
        if (inFlight >= IN_FLIGHT) return Effect.zipRight(woken(), post(events))
        inFlight++
        worker.postMessage({ kind: "batch", events } satisfies ToWorker)
        return Effect.void
      })

    let ended = false
    const waitDone: Effect.Effect<{ readonly position: number; readonly applied: number }, RebuildFailure> =
      Effect.suspend(() => {
        if (done !== undefined) return failure !== undefined ? Effect.fail(failure) : Effect.succeed(done)
        if (crashed !== undefined) return Effect.die(crashed)
        return Effect.zipRight(woken(), waitDone)
      })
    const finish = (failed: boolean) =>
      Effect.suspend(() => {
        if (!ended) {
          ended = true
          worker.postMessage({ kind: "end", failed } satisfies ToWorker)
        }
        return waitDone
      })

    let started = false
    const handle: RebuildWorker = {
      post,
      position: () => position,
      applied: () => applied,
      finish,
      terminate: Effect.promise(() => worker.terminate()).pipe(Effect.asVoid)
    }
    // Before it is ready: a worker that cannot start (its module, the views file) fails the start.
    worker.once("error", (error) => {
      if (!started) {
        started = true
        resume(Effect.die(error))
      }
    })
    worker.once("exit", (code) => {
      if (!started) {
        started = true
        resume(Effect.dieMessage(`rebuild worker exited (${code}) before it was ready`))
      }
    })
  })
