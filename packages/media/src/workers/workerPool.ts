import { existsSync } from "node:fs"
import { Effect, FiberSet, LogLevel, type Scope } from "effect"
import * as mediasoup from "mediasoup"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { MediaUnavailable } from "../errors.js"
import { workerSettings } from "../mediasoupOptions.js"

/** Something placed on a worker whose weight (estimated consumers) counts towards its load. */
export interface Placed {
  readonly load: () => number
}

export interface PooledWorker {
  readonly worker: types.Worker
  /** The pool seat it fills; a replacement takes the seat of the worker that died. */
  readonly index: number
  readonly placed: Set<Placed>
}

export interface WorkerPool {
  /** The live workers now: a dead one leaves at once, its replacement joins once started. */
  readonly workers: () => ReadonlyArray<PooledWorker>
  /** The live worker with the least load, optionally outside a set (pipeToRouter needs distinct workers). */
  readonly leastLoaded: (excluding?: ReadonlySet<PooledWorker>) => PooledWorker | undefined
}

/** How a dead worker is replaced: exponential backoff, and a bound on restarts in a row. */
export interface RestartPolicy {
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** Restarts in a row (each worker dying young, or failing to start) before the seat is given up. */
  readonly maxAttempts: number
  /** A worker that lived this long died of something else than a crash loop: the count starts over. */
  readonly stableAfterMs: number
}

export const defaultRestartPolicy: RestartPolicy = {
  baseDelayMs: 100,
  maxDelayMs: 30_000,
  maxAttempts: 8,
  stableAfterMs: 60_000
}

/** Delay before the n-th restart in a row (1-based): base, 2×base, 4×base, … capped. */
export const restartDelayMs = (policy: RestartPolicy, attempt: number): number =>
  Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempt - 1), policy.maxDelayMs)

/** Load of a worker: its routers (one unit each) plus the consumers estimated on them. */
export const workerLoad = (pooled: PooledWorker): number => {
  let load = 0
  for (const placed of pooled.placed) load += 1 + placed.load()
  return load
}

export const missingWorkerMessage = (): string =>
  `the mediasoup worker binary is missing (${mediasoup.workerBin}). Build it with ` +
  "`bash scripts/mediasoup-worker/build.sh` after `apt-get install -y $(grep -v '^#' " +
  "scripts/mediasoup-worker/debian-packages.txt)`, or set MEDIASOUP_WORKER_BIN."

/** One place of the pool: its worker when one is alive, and how restarts have gone lately. */
interface Seat {
  readonly index: number
  current: PooledWorker | undefined
  startedAt: number
  /** Restarts in a row without a worker that lived `stableAfterMs`. */
  attempts: number
}

const isAlive = (pooled: PooledWorker | undefined): pooled is PooledWorker =>
  pooled !== undefined && !pooled.worker.died && !pooled.worker.closed

/**
 * Starts the workers in the scope and closes them when it ends. A worker that dies is replaced on
 * its seat (the rooms that were on it are the media plane's to move); restarts back off
 * exponentially and stop after `maxAttempts` in a row, so a crash loop cannot spin.
 */
export const makeWorkerPool = (
  config: MediaConfig,
  policy: RestartPolicy = defaultRestartPolicy
): Effect.Effect<WorkerPool, MediaUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    if (!existsSync(mediasoup.workerBin)) {
      return yield* new MediaUnavailable({ reason: missingWorkerMessage() })
    }
    const count = Math.max(1, Math.floor(config.workers))
    const seats: Array<Seat> = Array.from({ length: count }, (_, index) => ({
      index,
      current: undefined,
      startedAt: 0,
      attempts: 0
    }))
    let closing = false
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closing = true
        for (const seat of seats) seat.current?.worker.close()
      })
    )
    // Restart fibers are interrupted when the scope closes, before the workers are (finalizer order).
    const runFork = yield* FiberSet.makeRuntime<never>()

    const log = (level: LogLevel.LogLevel, message: string, fields: Record<string, unknown>) =>
      Effect.logWithLevel(level, message).pipe(Effect.annotateLogs(fields))

    /** Starts a worker on the seat; uninterruptible, so that shutdown never leaks a half-started one. */
    const spawn = (seat: Seat) =>
      Effect.tryPromise({
        try: () => mediasoup.createWorker(workerSettings(config)),
        catch: (error) =>
          new MediaUnavailable({ reason: `cannot start a mediasoup worker: ${String(error)}` })
      }).pipe(
        Effect.map((worker): PooledWorker => {
          const pooled: PooledWorker = { worker, index: seat.index, placed: new Set() }
          seat.current = pooled
          seat.startedAt = Date.now()
          // Its routers close with it before this event ('workerclose'); the media plane moves the rooms.
          worker.on("died", (error) => died(seat, pooled, error))
          return pooled
        }),
        Effect.uninterruptible
      )

    const died = (seat: Seat, pooled: PooledWorker, error: Error) => {
      if (seat.current === pooled) seat.current = undefined
      if (closing) return
      const livedMs = Date.now() - seat.startedAt
      if (livedMs >= policy.stableAfterMs) seat.attempts = 0
      runFork(
        log(LogLevel.Warning, "mediasoup worker died", {
          event: "media.worker.died",
          workerIndex: seat.index,
          workerPid: pooled.worker.pid,
          livedMs,
          error: error.message
        }).pipe(Effect.zipRight(replace(seat, pooled.worker.pid)))
      )
    }

    const replace = (seat: Seat, deadPid: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        for (;;) {
          seat.attempts++
          if (seat.attempts > policy.maxAttempts) {
            return yield* log(
              LogLevel.Error,
              "gave up restarting a mediasoup worker: the pool runs smaller",
              {
                event: "media.worker.abandoned",
                workerIndex: seat.index,
                attempts: policy.maxAttempts,
                liveWorkers: workers().length
              }
            )
          }
          const delayMs = restartDelayMs(policy, seat.attempts)
          yield* Effect.sleep(delayMs)
          const started = yield* Effect.either(spawn(seat))
          if (started._tag === "Right") {
            return yield* log(LogLevel.Info, "mediasoup worker replaced", {
              event: "media.worker.replaced",
              workerIndex: seat.index,
              workerPid: started.right.worker.pid,
              replacedPid: deadPid,
              attempt: seat.attempts,
              delayMs
            })
          }
          yield* log(LogLevel.Warning, "mediasoup worker could not be restarted", {
            event: "media.worker.restart-failed",
            workerIndex: seat.index,
            attempt: seat.attempts,
            reason: started.left.reason
          })
        }
      })

    yield* Effect.forEach(seats, spawn, { concurrency: "unbounded", discard: true })

    const workers = (): ReadonlyArray<PooledWorker> =>
      seats.flatMap((seat) => (isAlive(seat.current) ? [seat.current] : []))

    const leastLoaded = (excluding?: ReadonlySet<PooledWorker>): PooledWorker | undefined => {
      let best: PooledWorker | undefined
      let bestLoad = Number.POSITIVE_INFINITY
      for (const pooled of workers()) {
        if (excluding?.has(pooled)) continue
        const load = workerLoad(pooled)
        if (load < bestLoad) {
          best = pooled
          bestLoad = load
        }
      }
      return best
    }
    return { workers, leastLoaded }
  })
