import { existsSync } from "node:fs"
import { Effect, type Scope } from "effect"
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
  readonly index: number
  readonly placed: Set<Placed>
}

export interface WorkerPool {
  readonly workers: ReadonlyArray<PooledWorker>
  /** The live worker with the least load, optionally outside a set (pipeToRouter needs distinct workers). */
  readonly leastLoaded: (excluding?: ReadonlySet<PooledWorker>) => PooledWorker | undefined
}

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

/** Starts the workers in the scope and closes them when it ends. */
export const makeWorkerPool = (
  config: MediaConfig
): Effect.Effect<WorkerPool, MediaUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    if (!existsSync(mediasoup.workerBin)) {
      return yield* new MediaUnavailable({ reason: missingWorkerMessage() })
    }
    const count = Math.max(1, Math.floor(config.workers))
    const workers = yield* Effect.forEach(
      Array.from({ length: count }, (_, index) => index),
      (index) =>
        Effect.acquireRelease(
          Effect.tryPromise({
            try: () => mediasoup.createWorker(workerSettings(config)),
            catch: (error) =>
              new MediaUnavailable({ reason: `cannot start a mediasoup worker: ${String(error)}` })
          }),
          (worker) => Effect.sync(() => worker.close())
        ).pipe(
          Effect.tap((worker) =>
            Effect.sync(() =>
              worker.on("died", (error) => {
                // Its routers close with it ('workerclose'); rooms on it are closed by their owner.
                console.error(`mediasoup worker ${worker.pid} died: ${error.message}`)
              })
            )
          ),
          Effect.map((worker): PooledWorker => ({ worker, index, placed: new Set() }))
        ),
      { concurrency: "unbounded" }
    )
    const leastLoaded = (excluding?: ReadonlySet<PooledWorker>): PooledWorker | undefined => {
      let best: PooledWorker | undefined
      let bestLoad = Number.POSITIVE_INFINITY
      for (const pooled of workers) {
        if (pooled.worker.died || pooled.worker.closed || excluding?.has(pooled)) continue
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
