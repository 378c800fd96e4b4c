import type { EventStore, Rules, Spaces } from "@spaces/domain"
import type { MediaPlaneService, RoomEvent } from "@spaces/media"
import type { ReadModels } from "@spaces/projections"
import { Cause, type Effect, Exit, Option, type Queue, Runtime, type Scope } from "effect"
import type { Tokens } from "../auth/tokens.js"
import type { ServerConfig } from "../config.js"
import type { Logger } from "../log.js"
import type { Metrics } from "../observability/metrics.js"
import type { Presence } from "../presence/Presence.js"
import { fromError, type HttpProblem } from "../problems.js"
import type { LogHub } from "../sse/logHub.js"
import type { CaptionedSpaces } from "../captions/captionedSpaces.js"
import type { CaptionPartials } from "../sse/captionPartials.js"
import type { Reactions } from "../sse/reactions.js"
import type { RemoteSpeaking } from "../cluster/speakingRelay.js"
import type { SseClients } from "../sse/sse.js"

/** The services route code runs its effects with. */
export type AppServices = Spaces | EventStore | ReadModels | Rules

/** The media plane when this server has one, or why not. */
export type Media =
  | { readonly available: true; readonly plane: MediaPlaneService }
  | { readonly available: false; readonly reason: string }

/** Everything the routes need: built once by the composition root. */
export interface App {
  readonly config: ServerConfig
  readonly logger: Logger
  readonly tokens: Tokens
  readonly metrics: Metrics
  readonly runtime: Runtime.Runtime<AppServices>
  readonly media: Media
  readonly hub: LogHub
  readonly reactions: Reactions
  /** Partial captions on their way to the rooms' live streams. */
  readonly captionPartials: CaptionPartials
  /** Track events of producers whose origin is another node (several nodes), for the room streams. */
  readonly remoteTracks: Effect.Effect<Queue.Dequeue<RoomEvent>, never, Scope.Scope>
  /** Speaking indicators measured on other nodes (where the speakers' producers are). */
  readonly remoteSpeaking: RemoteSpeaking
  /** The live Spaces with captions on (for an external transcriber). */
  readonly captionedSpaces: CaptionedSpaces
  readonly sse: SseClients
  readonly presence: Presence
}

/**
 * Runs an effect for a route: its value, or a thrown `HttpProblem` made from its typed error.
 * Defects are logged and answered 500 (they are bugs, never a client's mistake).
 */
export const runWith =
  (app: Pick<App, "runtime" | "logger">) =>
  async <A, E>(
    effect: Effect.Effect<A, E, AppServices>,
    toProblem: (e: E) => HttpProblem = fromError
  ): Promise<A> => {
    const exit = await Runtime.runPromiseExit(app.runtime)(effect)
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const problem = toProblem(failure.value)
      if (problem.status >= 500) app.logger.error("request failed", { error: String(failure.value) })
      throw problem
    }
    throw defect(app.logger, Cause.pretty(exit.cause), Cause.squash(exit.cause))
  }

/** A defect in a route: logged, and answered 500 as a problem. */
const defect = (logger: Logger, cause: string, error: unknown): HttpProblem => {
  logger.error("request defect", { cause })
  return fromError(error)
}

/** Runs a synchronous read for a route: its value, or (a defect) a logged 500 as `runWith` answers. */
export const runSyncWith =
  (app: Pick<App, "logger">) =>
  <A>(read: () => A): A => {
    try {
      return read()
    } catch (error) {
      throw defect(app.logger, error instanceof Error ? (error.stack ?? error.message) : String(error), error)
    }
  }
