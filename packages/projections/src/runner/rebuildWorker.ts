/**
 * A rebuild worker's thread (see `offload.ts`): rebuilds some of the projections over its own
 * connection to the views file, from the batches of the log the main thread posts it, or from
 * its own read of the log's SQLite file.
 */
import { parentPort, workerData } from "node:worker_threads"
import type { RecordedEvent } from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { Chunk, Effect, Stream } from "effect"
import { projections } from "../ReadModelsLive.js"
import { makeSqliteStorage } from "../store/SqliteStorage.js"
import { type FromWorker, failureToWire, type ToWorker, type WorkerSetup } from "./offloadProtocol.js"
import { makeRebuildPass, type RebuildFailure } from "./rebuildPass.js"
import { REBUILD_BATCH } from "./rebuildBatch.js"

const port = parentPort
if (port === null) throw new Error("rebuildWorker runs as a worker thread")
const setup = workerData as WorkerSetup
const send = (message: FromWorker) => port.postMessage(message)

const storage = makeSqliteStorage({ path: setup.viewsPath, busyTimeoutMs: setup.busyTimeoutMs })
const mine = projections(setup.options).filter((p) => setup.names.includes(p.name))
const pass = makeRebuildPass(storage, mine)
send({ kind: "ready", versions: mine.map((p) => [p.name, p.version] as const) })

/** Its first failure: later batches are not stepped, and the end publishes what came before it. */
let failed: RebuildFailure | undefined
/** The main thread failed: a worker reading the log itself stops there. */
let stopped = false

const apply = (events: ReadonlyArray<RecordedEvent>) => {
  if (failed === undefined) failed = pass.apply(events)
  send({
    kind: "applied",
    position: pass.position(),
    applied: pass.applied(),
    ...(failed === undefined ? {} : { failure: failureToWire(failed) })
  })
}

/** Publishes what was stepped (also before a failure, as a rebuild on one thread does), says so, and stops. */
const end = () => {
  let failure = failed
  try {
    failure ??= pass.publish()
  } finally {
    pass.settle()
    storage.close()
  }
  send({
    kind: "done",
    position: pass.position(),
    applied: pass.applied(),
    ...(failure === undefined ? {} : { failure: failureToWire(failure) })
  })
  port.close()
}

if (setup.logPath === undefined) {
  port.on("message", (message: ToWorker) => {
    if (message.kind === "batch") apply(message.events as ReadonlyArray<RecordedEvent>)
    else end()
  })
} else {
  const log = makeSqliteEventStore({ path: setup.logPath })
  let read = false
  let ending = false
  port.on("message", (message: ToWorker) => {
    if (message.kind !== "end") return
    ending = true
    stopped ||= message.failed
    if (read) end()
  })
  void Effect.runPromise(
    log.readAll(0).pipe(
      Stream.rechunk(REBUILD_BATCH),
      Stream.chunks,
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          apply(Chunk.toReadonlyArray(chunk))
          return failed === undefined && !stopped
        })
      ),
      // A read that fails is the rebuild's failure, as on the main thread: it crashes the thread.
      Effect.orDie,
      Effect.ensuring(Effect.sync(() => log.close()))
    )
  ).then(() => {
    read = true
    if (ending) end()
  })
}
