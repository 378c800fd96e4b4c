import { MalformedEvent } from "@spaces/domain"
import type { NotificationsOptions } from "../notifications/notificationsProjection.js"
import type { FeedOptions } from "../feed/feedProjection.js"
import { CheckpointMoved, StepFailed } from "./applyBatch.js"
import type { RebuildFailure } from "./rebuildPass.js"

/** The options `projections()` builds the projections with: the worker builds its own from them. */
export type ProjectionsOptions = FeedOptions & { readonly notifications?: NotificationsOptions }

/** What a rebuild worker starts with (its `workerData`). */
export interface WorkerSetup {
  readonly viewsPath: string
  readonly names: ReadonlyArray<string>
  readonly options: ProjectionsOptions
  readonly busyTimeoutMs: number
  /** The log's SQLite file, which the worker reads itself (see `Offload.logPath`). */
  readonly logPath?: string
}

/** A failure as it crosses between threads (an error's prototype does not). */
export type WireFailure =
  | { readonly _tag: "CheckpointMoved"; readonly projection: string }
  | {
      readonly _tag: "MalformedEvent" | "StepFailed"
      readonly stream: string
      readonly revision: number
      readonly type: string
      readonly reason: string
    }

export const failureToWire = (failure: RebuildFailure): WireFailure =>
  failure._tag === "CheckpointMoved"
    ? { _tag: failure._tag, projection: failure.projection }
    : {
        _tag: failure._tag,
        stream: failure.stream,
        revision: failure.revision,
        type: failure.type,
        reason: failure.reason
      }

export const failureFromWire = (wire: WireFailure): RebuildFailure => {
  switch (wire._tag) {
    case "CheckpointMoved":
      return new CheckpointMoved({ projection: wire.projection })
    case "MalformedEvent":
      return new MalformedEvent({
        stream: wire.stream,
        revision: wire.revision,
        type: wire.type,
        reason: wire.reason
      })
    case "StepFailed":
      return new StepFailed({
        stream: wire.stream,
        revision: wire.revision,
        type: wire.type,
        reason: wire.reason
      })
  }
}

/** Main thread → worker: a batch of the log, or its end. */
export type ToWorker =
  | { readonly kind: "batch"; readonly events: ReadonlyArray<unknown> }
  /** No more batches: (or, reading the log itself, stop reading), publish and stop. */
  | { readonly kind: "end"; readonly failed: boolean }

/** Worker → main thread: its projections reset, a batch stepped, or all of it published. */
export type FromWorker =
  | { readonly kind: "ready"; readonly versions: ReadonlyArray<readonly [string, number]> }
  | {
      readonly kind: "applied" | "done"
      readonly position: number
      readonly applied: number
      readonly failure?: WireFailure
    }
