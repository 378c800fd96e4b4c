import type { Server } from "node:http"
import { LogFollower, logFollowerLayer, Spaces, spacesOn } from "@spaces/domain"
import { eventStoreLayer } from "@spaces/eventstore"
import { MediaPlane, MediaPlaneLive, type MediaUnavailable, type RoomEvent } from "@spaces/media"
import { ReadModels, ReadModelsLive, runScheduler } from "@spaces/projections"
import {
  Cause,
  Context,
  Deferred,
  Effect,
  Exit,
  Layer,
  Logger,
  LogLevel,
  PubSub,
  Runtime,
  Scope
} from "effect"
import type { App, AppServices, Media } from "./app/context.js"
import { createExpressApp, createOpsApp } from "./app/server.js"
import type { RouteSpec } from "./routes/registry.js"
import { makeTokens } from "./auth/tokens.js"
import type { ServerConfig } from "./config.js"
import { type Logger as JsonLogger, makeLogger } from "./log.js"
import { domainSpeakerAuthorityOnceOpen } from "./media/authority.js"
import { followLogIntoMedia } from "./media/glue.js"
import { runPusher } from "./notifications/pusher.js"
import { Metrics } from "./observability/metrics.js"
import { makeInProcessBus } from "./cluster/EphemeralBus.js"
import { makeMediaFederation } from "./cluster/mediaFederation.js"
import { makeRedisBus } from "./cluster/redisBus.js"
import { makeRedisConnectionTracker } from "./cluster/redisConnectionTracker.js"
import { RedisUserMoves } from "./cluster/redisUserMoves.js"
import { makeRemoteSpeaking, relaySpeaking } from "./cluster/speakingRelay.js"
import { ConnectionTracker, makeInProcessConnectionTracker } from "./presence/ConnectionTracker.js"
import { makePresence } from "./presence/Presence.js"
import { registerCaptionMetrics } from "./captions/metrics.js"
import { bothSwitches, makeCaptionedSpaces } from "./captions/captionedSpaces.js"
import { followLogIntoCaptions, transcriberFor } from "./captions/transcription.js"
import { makeCaptionPartials } from "./sse/captionPartials.js"
import { logHubOf } from "./sse/logHub.js"
import { makeReactions } from "./sse/reactions.js"
import { SseClients } from "./sse/sse.js"
import { readLiveAtStart } from "./startup/liveAtStart.js"

export interface RunningServer {
  readonly url: string
  readonly port: number
  /** The operations port's base URL, when SPACES_OPS_PORT is set. */
  readonly opsUrl: string | undefined
  readonly media: Media
  readonly app: App
  /** Every route this server serves on its main port, as the route registry holds them. */
  readonly routes: ReadonlyArray<RouteSpec>
  /** Graceful shutdown: stop accepting, close live streams, drain requests, stop runners, close the store. */
  readonly close: () => Promise<void>
}

/**
 * Effect's own log lines (background fibers) go through the same JSON logger; their annotations
 * (e.g. the media plane's `event: "media.worker.died"`, `workerPid`) become fields of the line.
 */
export const effectLogger = (logger: JsonLogger) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message, cause, annotations }) => {
      const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
      const fields: Record<string, unknown> = Object.fromEntries(annotations)
      if (!Cause.isEmpty(cause)) fields.cause = Cause.pretty(cause)
      if (LogLevel.greaterThanEqual(logLevel, LogLevel.Error)) logger.error(text, fields)
      else if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) logger.warn(text, fields)
      else if (LogLevel.greaterThanEqual(logLevel, LogLevel.Info)) logger.info(text, fields)
      else logger.debug(text, fields)
    })
  )

/** Closes the HTTP server: no new connections, live streams ended, in-flight requests drained (bounded). */
const closeServer = (server: Server, sse: SseClients, graceMs: number) =>
  new Promise<void>((resolve) => {
    sse.closeAll()
    const timer = setTimeout(() => server.closeAllConnections(), graceMs)
    server.close(() => {
      clearTimeout(timer)
      resolve()
    })
    server.closeIdleConnections()
  })

/** The whole application in a scope: store, domain, read models, media, background fibers, HTTP. */
const build = (config: ServerConfig, logger: JsonLogger) =>
  Effect.gen(function* () {
    // Several nodes order each user's moves between Spaces through the broker (one live Space per user).
    const { redisUrl, nodeId } = config.cluster
    const domain = spacesOn(eventStoreLayer(config.store), { rules: config.rules }).pipe(
      Layer.provide(redisUrl === undefined ? Layer.empty : RedisUserMoves(redisUrl, nodeId))
    )
    // The projections' runners live in this scope: in their own SQLite file (resuming from their
    // checkpoints after a restart) beside an SQLite log, in memory (rebuilt on start) otherwise.
    const notifications = { fanOutThreshold: config.notificationsFanOutThreshold }
    const { liveBatchMs } = config
    const views =
      config.views.kind === "sqlite"
        ? ReadModelsLive.sqlite({ path: config.views.path, notifications, liveBatchMs })
        : ReadModelsLive.memory({ notifications, liveBatchMs })
    // One log follower for the process: the projections' runners, the live streams, the media
    // glue, presence and captions all read the log through it.
    const followerLayer = logFollowerLayer({ gatherMs: liveBatchMs })
    const core = Layer.provideMerge(views, Layer.provideMerge(followerLayer, domain))
    // The media workers (processes of their own) start while the store and the views open: the
    // plane asks the domain only once clients can reach it, after both are up.
    const spacesOpen = yield* Deferred.make<Spaces["Type"]>()
    const buildCore = Layer.build(core).pipe(
      Effect.tap((context) => Deferred.succeed(spacesOpen, Context.get(context, Spaces)))
    )
    const buildMedia: Effect.Effect<Media, MediaUnavailable, Scope.Scope> =
      config.media.mode === "off"
        ? Effect.succeed<Media>({ available: false, reason: "media is off (SPACES_MEDIA=off)" })
        : Layer.build(
            MediaPlaneLive({ logLevel: "warn", ...config.media.options }).pipe(
              Layer.provide(domainSpeakerAuthorityOnceOpen(spacesOpen))
            )
          ).pipe(
            Effect.map((ctx): Media => ({ available: true, plane: Context.get(ctx, MediaPlane) })),
            Effect.catchAll((error) =>
              config.media.mode === "on"
                ? Effect.fail(error)
                : Effect.sync((): Media => {
                    logger.warn("media unavailable: running without media (signalling answers 503)", {
                      reason: error.reason
                    })
                    return { available: false, reason: error.reason }
                  })
            )
          )
    // The plane in a scope of its own, closed before the store and the views (as when it was built
    // after them), and closed on a failed start too.
    const mediaScope = yield* Scope.make()
    yield* Effect.addFinalizer((exit) => Scope.close(mediaScope, exit))
    // The plane first: its workers spawn before the store's synchronous opening takes the thread.
    const [media, context] = yield* Effect.all([Scope.extend(buildMedia, mediaScope), buildCore], {
      concurrency: 2
    })
    yield* Effect.addFinalizer((exit) => Scope.close(mediaScope, exit))
    const follower = Context.get(context, LogFollower)
    const runtime = yield* Effect.provide(Effect.runtime<AppServices>(), context)

    const hub = logHubOf(follower)
    // What the edges start from after a restart: the live Spaces as the rooms view knows them once
    // it has caught up (read once, in the background: the server listens meanwhile).
    const liveAtStart = yield* Effect.cached(Effect.provide(readLiveAtStart, context))
    const liveSpacesAtStart = Effect.map(liveAtStart, ({ position, live }) => ({
      live: live.map((s) => s.spaceId),
      log: follower.follow(position)
    }))
    // Several nodes share the ephemeral plane through the broker; one node alone keeps it in-process.
    const bus = yield* redisUrl === undefined ? makeInProcessBus(nodeId) : makeRedisBus(redisUrl, nodeId)
    const tracker = yield* redisUrl === undefined
      ? makeInProcessConnectionTracker
      : makeRedisConnectionTracker(redisUrl, bus)
    const presence = yield* makePresence({
      graceMs: config.presence.disconnectGraceMs,
      startup: Effect.map(liveAtStart, ({ position, live }) => ({
        liveAtStart: live,
        log: follower.follow(position)
      })),
      ...(media.available ? { mediaEvents: media.plane.events } : {})
    }).pipe(Effect.provide(context), Effect.provideService(ConnectionTracker, tracker))
    const reactions = yield* makeReactions(bus)
    const captionPartials = yield* makeCaptionPartials(bus)
    const remoteSpeaking = yield* makeRemoteSpeaking(bus)
    if (media.available && redisUrl !== undefined)
      yield* Effect.forkScoped(relaySpeaking(media.plane, bus, liveSpacesAtStart))
    // Several nodes: the routes see every node's producers and get edge pipes from their origins;
    // the glue, presence and the transcriber keep to this node's own plane.
    const federation =
      media.available && redisUrl !== undefined
        ? yield* makeMediaFederation(media.plane, bus, redisUrl, liveSpacesAtStart)
        : undefined
    const routesMedia: Media = federation === undefined ? media : { available: true, plane: federation.plane }
    const remoteTracks =
      federation?.remoteTracks ??
      (yield* Effect.acquireRelease(PubSub.unbounded<RoomEvent>(), PubSub.shutdown)).pipe(PubSub.subscribe)
    const captionedSpaces = makeCaptionedSpaces()
    const sse = new SseClients()
    const metrics = new Metrics()
    const app: App = {
      config,
      logger,
      tokens: makeTokens(config.auth),
      metrics,
      runtime,
      media: routesMedia,
      remoteTracks,
      hub,
      reactions,
      captionPartials,
      remoteSpeaking,
      captionedSpaces,
      sse,
      presence
    }
    metrics.gauge({
      name: "spaces_sse_clients",
      help: "Open Server-Sent Events connections.",
      read: async () => [
        { labels: { stream: "room" }, value: sse.count("room") },
        { labels: { stream: "feed" }, value: sse.count("feed") },
        { labels: { stream: "notifications" }, value: sse.count("notifications") }
      ]
    })
    metrics.gauge({
      name: "spaces_projection_lag_events",
      help: "Events each projection runner is behind the log.",
      read: async () =>
        (await Runtime.runPromise(runtime)(Effect.flatMap(ReadModels, (m) => m.status))).map((r) => ({
          labels: { runner: r.name },
          value: r.lagEvents
        }))
    })
    metrics.gauge({
      name: "spaces_media_available",
      help: "1 when this server has a media plane.",
      read: async () => [{ labels: {}, value: media.available ? 1 : 0 }]
    })
    metrics.gauge({
      name: "spaces_media_workers",
      help: "Live mediasoup workers (a dead one is replaced after a backoff).",
      read: async () => [
        { labels: {}, value: media.available ? (await Effect.runPromise(media.plane.workers)).length : 0 }
      ]
    })

    yield* Effect.forkScoped(Effect.provide(runScheduler, context))
    yield* Effect.forkScoped(
      Effect.provide(runPusher(config.push, logger), context).pipe(
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.sync(() => logger.error("push delivery stopped", { cause: Cause.pretty(cause) }))
        )
      )
    )
    if (media.available)
      yield* Effect.forkScoped(Effect.provide(followLogIntoMedia(media.plane, liveAtStart, logger), context))

    // Captions need the media plane (the transcriber taps its producers) and an engine.
    const captions = config.captions
    // With `external`, `npm run transcriber` does the work elsewhere, through the API.
    if (media.available && (captions.engine === "pocketsphinx" || captions.engine === "whisper")) {
      const run = <A, E>(effect: Effect.Effect<A, E, AppServices>) => Effect.provide(effect, context)
      const transcriber = yield* transcriberFor(captions, media.plane, captionPartials, run, logger)
      registerCaptionMetrics(metrics, transcriber)
      yield* Effect.forkScoped(
        Effect.provide(
          followLogIntoCaptions(bothSwitches(transcriber, captionedSpaces), liveAtStart),
          context
        )
      )
    } else
      yield* Effect.forkScoped(Effect.provide(followLogIntoCaptions(captionedSpaces, liveAtStart), context))

    const { server: express, routes } = createExpressApp(app)
    const listen = (handler: typeof express, port: number, host: string) =>
      Effect.acquireRelease(
        Effect.async<Server, Error>((resume) => {
          const server = handler.listen(port, host)
          server.once("listening", () => resume(Effect.succeed(server)))
          server.once("error", (error) => resume(Effect.fail(error)))
        }),
        (server) => Effect.promise(() => closeServer(server, sse, config.shutdownGraceMs))
      )
    const urlOf = (server: Server, fallbackPort: number, bound: string) => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : fallbackPort
      const host = bound === "0.0.0.0" || bound === "::" ? "127.0.0.1" : bound
      return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, port }
    }
    const opsUrl =
      config.ops.port === undefined
        ? undefined
        : urlOf(
            yield* listen(createOpsApp(app), config.ops.port, config.ops.host),
            config.ops.port,
            config.ops.host
          ).url
    const server = yield* listen(express, config.port, config.host)
    server.keepAliveTimeout = 65_000
    const { url, port } = urlOf(server, config.port, config.host)
    return { url, port, opsUrl, media: routesMedia, app, routes: routes.specs }
  })

/**
 * The composition root: builds the application from a validated configuration and starts serving.
 * Everything lives in one scope, so `close` releases it in reverse order of acquisition.
 */
export const start = async (config: ServerConfig, options: { readonly logger?: JsonLogger } = {}) => {
  const logger = options.logger ?? makeLogger(config.logLevel)
  if (config.auth.generatedSecret)
    logger.warn(
      "SPACES_JWT_SECRET is not set: generated a random token secret for this process (tokens die with it)"
    )
  if (config.recordingUrls.generatedSecret)
    logger.warn(
      "neither SPACES_RECORDING_URL_SECRET nor SPACES_JWT_SECRET is set: recording URLs are signed with a random key for this process (they won't survive a restart or work across nodes)"
    )
  if (config.auth.devTokens)
    logger.warn("development sign-in is on: POST /v1/dev/token issues tokens for anyone", {
      serviceTokens: config.auth.devServiceTokens,
      nodeEnv: config.runMode
    })
  const scope = Effect.runSync(Scope.make())
  const exit = await Effect.runPromiseExit(
    Scope.extend(build(config, logger), scope).pipe(Effect.provide(effectLogger(logger)))
  )
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw Cause.squash(exit.cause)
  }
  let closing: Promise<void> | undefined
  const running: RunningServer = {
    ...exit.value,
    close: () => {
      closing ??= Effect.runPromise(Scope.close(scope, Exit.void)).then(() => logger.info("stopped"))
      return closing
    }
  }
  logger.info("listening", {
    url: running.url,
    store: config.store.kind,
    node: config.cluster.nodeId,
    broker: config.cluster.redisUrl === undefined ? "in-process" : "redis",
    media: running.media.available ? "available" : "unavailable"
  })
  return running
}
