import { existsSync } from "node:fs"
import { Effect, Layer, type Scope } from "effect"
import * as mediasoup from "mediasoup"
import type { MediaConfig } from "../config.js"
import { MediaPlane, type MediaPlaneService } from "../mediaPlane.js"
import { MediaPlaneLive } from "../mediaPlaneLive.js"
import { missingWorkerMessage } from "../workers/workerPool.js"
import { testAuthority } from "./authority.js"

/** Media tests run against the real worker; without it they fail and say how to build it. */
export const requireWorker = (): void => {
  if (!existsSync(mediasoup.workerBin)) throw new Error(missingWorkerMessage())
}

export type TestAuthority = ReturnType<typeof testAuthority>

/** Runs a test body with a fresh media plane (its own workers), torn down afterwards. */
export const withPlane = <A, E>(
  config: Partial<MediaConfig>,
  body: (plane: MediaPlaneService, authority: TestAuthority) => Effect.Effect<A, E, Scope.Scope>
): Promise<A> => {
  const authority = testAuthority()
  const layer = MediaPlaneLive({ workers: 1, logLevel: "error", ...config }).pipe(
    Layer.provide(authority.layer)
  )
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const plane = yield* MediaPlane
        return yield* body(plane, authority)
      })
    ).pipe(Effect.provide(layer))
  )
}
