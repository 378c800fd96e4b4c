import { existsSync } from "node:fs"
import { Effect, HashMap, Layer, Logger, type Scope } from "effect"
import * as mediasoup from "mediasoup"
import type { SpaceId, UserId } from "@spaces/domain"
import type { MediaConfig } from "../config.js"
import { MediaInstruction } from "../instructions.js"
import { MediaPlane, type MediaPlaneService } from "../mediaPlane.js"
import { MediaPlaneLive } from "../mediaPlaneLive.js"
import { missingWorkerMessage } from "../workers/workerPool.js"
import { testAuthority } from "./authority.js"
import { waitUntil } from "./udp.js"

/** Media tests run against the real worker; without it they fail and say how to build it. */
export const requireWorker = (): void => {
  if (!existsSync(mediasoup.workerBin)) throw new Error(missingWorkerMessage())
}

export type TestAuthority = ReturnType<typeof testAuthority>

/** A line the plane logged: its structured fields (`event`, `spaceId`, …) are what tests look at. */
export interface LoggedLine {
  readonly level: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** The `event` fields logged so far, in order. */
export const loggedEvents = (logs: ReadonlyArray<LoggedLine>): ReadonlyArray<unknown> =>
  logs.map((line) => line.annotations.event).filter((event) => event !== undefined)

/**
 * Runs a test body with a fresh media plane (its own workers), torn down afterwards. The body
 * also gets the plane's log lines as they are logged (its background fibers' included).
 */
export const withPlane = <A, E>(
  config: Partial<MediaConfig>,
  body: (
    plane: MediaPlaneService,
    authority: TestAuthority,
    logs: ReadonlyArray<LoggedLine>
  ) => Effect.Effect<A, E, Scope.Scope>
): Promise<A> => {
  const authority = testAuthority()
  const logs: Array<LoggedLine> = []
  const capture = Logger.add(
    Logger.make(({ logLevel, annotations }) => {
      logs.push({ level: logLevel.label, annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
    })
  )
  const layer = MediaPlaneLive({ workers: 1, logLevel: "error", ...config }).pipe(
    Layer.provide(authority.layer)
  )
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const plane = yield* MediaPlane
        return yield* body(plane, authority, logs)
      })
    ).pipe(Effect.provide(layer), Effect.provide(capture))
  )
}

/** Who may speak and who may listen in a room, as the domain would say. */
export interface RoomCast {
  readonly speakers?: ReadonlyArray<UserId>
  readonly listeners?: ReadonlyArray<UserId>
}

/** Starts the Space's room (not recording) and gives its cast their standing. */
export const openRoom = (
  plane: MediaPlaneService,
  authority: TestAuthority,
  space: SpaceId,
  cast: RoomCast = {}
) =>
  Effect.gen(function* () {
    yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
    for (const user of cast.speakers ?? []) authority.speaker(space, user)
    for (const user of cast.listeners ?? []) authority.listener(space, user)
  })

/** Bounded wait (never a speed check) for an effect's answer to satisfy a condition; the answer. */
export const eventually = <A, E>(probe: Effect.Effect<A, E>, done: (a: A) => boolean) =>
  Effect.gen(function* () {
    let last: A | undefined
    const held = yield* Effect.promise(() =>
      waitUntil(() => {
        const exit = Effect.runSyncExit(probe)
        if (exit._tag === "Failure") return false
        last = exit.value
        return done(exit.value)
      }, 20_000)
    )
    if (!held) return yield* Effect.dieMessage(`not so within 20 s; last answer: ${JSON.stringify(last)}`)
    return last as A
  })
