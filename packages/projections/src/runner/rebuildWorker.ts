/**
 * A rebuild worker's thread (see `offload.ts`): rebuilds some of the projections over its own
 * connection to the views file, from the batches of the log the main thread posts it.
 */
import { parentPort, workerData } from "node:worker_threads"
import type { RecordedEvent } from "@spaces/domain"
import { projections } from "../ReadModelsLive.js"
import { makeSqliteStorage } from "../store/SqliteStorage.js"
import type { FromWorker, ToWorker, WorkerSetup } from "./offloadProtocol.js"
import { failureToWire } from "./offloadProtocol.js"
import { makeRebuildPass, type RebuildFailure } from "./rebuildPass.js"

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
port.on("message", (message: ToWorker) => {
  if (message.kind === "batch") {
    failed ??= pass.apply(message.events as ReadonlyArray<RecordedEvent>)
    send({
      kind: "applied",
      position: pass.position(),
      applied: pass.applied(),
      ...(failed === undefined ? {} : { failure: failureToWire(failed) })
    })
    return
  }
  // The end of the log, or the main thread's failure: what was stepped is published either way
  // (as a rebuild on one thread publishes the events before a failure), then it says so and stops.
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
})
