import express, { type NextFunction, type Request, type Response } from "express"
import { mountCommands } from "../routes/executeCommands.js"
import { mountDev } from "../routes/dev.js"
import { mountHistory } from "../routes/history.js"
import { mountLive } from "../routes/live.js"
import { mountMedia } from "../routes/media.js"
import { mountRecordings } from "../routes/recordings.js"
import { mountCaptionsService } from "../routes/captionsService.js"
import { mountOperator } from "../routes/operator.js"
import { mountNotifications } from "../routes/notifications.js"
import { mountOps } from "../routes/ops.js"
import { mountQueries } from "../routes/queries.js"
import { mountReactions } from "../routes/reactions.js"
import { mountTranscript } from "../routes/transcript.js"
import { mountPostQuery } from "../routes/postQuery.js"
import { Routes } from "../routes/registry.js"
import { mountSignIn } from "../routes/signIn.js"
import { mountShare } from "../routes/share.js"
import { webClient } from "../routes/webClient.js"
import type { Tokens } from "../auth/tokens.js"
import type { ServerConfig } from "../config.js"
import type { App } from "./context.js"
import {
  authenticate,
  type Gate,
  notFound,
  problemHandler,
  rateLimit,
  requestContext,
  requireJson
} from "./middleware.js"
import { makeRateLimiter } from "./rateLimit.js"
import { RouteTable } from "./routeTable.js"

/**
 * What runs before a route's handler, as its spec says: token verification (`live`: also from
 * `?access_token=`; `ownToken`: not at all), the per-caller rate limit (`unlimited`: none), and the
 * JSON body. A request no route takes gets the defaults.
 */
export const gates = (
  tokens: Tokens,
  config: Pick<ServerConfig, "authFailuresPerMinute" | "rateLimit" | "maxBodyBytes">
) => {
  const perMinute = config.authFailuresPerMinute
  const verify = authenticate(tokens, makeRateLimiter({ perSecond: perMinute / 60, burst: perMinute }))
  const limit = rateLimit(makeRateLimiter(config.rateLimit))
  const parse = express.json({
    limit: config.maxBodyBytes,
    type: ["application/json", "application/*+json"],
    strict: true
  })
  // A request that says it has no body (most GETs) skips both: the parser would only set `req.body`.
  const json = (req: Request, res: Response, next: NextFunction) => {
    if (req.headers["transfer-encoding"] === undefined && req.headers["content-length"] === undefined) {
      if (!Reflect.has(req, "body")) req.body = undefined
      return next()
    }
    requireJson(req, res, (error?: unknown) => (error ? next(error) : parse(req, res, next)))
  }
  return (gate: Gate) => [verify(gate), limit(gate), json]
}

/** The Express application: middleware, every route, and the problem handler. */
export const createExpressApp = (app: App) => {
  const server = express()
  server.disable("x-powered-by")
  server.set("etag", false)
  const trust = app.config.trustProxy
  server.set("trust proxy", typeof trust === "object" ? [...trust] : trust)
  // The web client talks to the OpenID provider too (discovery, token, revocation).
  const connectTo = app.config.auth.oidc === undefined ? [] : [new URL(app.config.auth.oidc.issuer).origin]
  server.use(requestContext(app.logger, app.metrics, connectTo))
  const pipeline = gates(app.tokens, app.config)
  const table = new RouteTable()
  const routes = new Routes(table, pipeline)
  mountOps(app, routes)
  mountDev(app, routes)
  mountSignIn(app, routes)
  mountCommands(app, routes)
  mountOperator(app, routes)
  mountCaptionsService(app, routes)
  mountShare(app, routes)
  mountQueries(app, routes)
  mountHistory(app, routes)
  mountTranscript(app, routes)
  mountPostQuery(app, routes)
  mountReactions(app, routes)
  mountLive(app, routes)
  mountNotifications(app, routes)
  mountMedia(app, routes)
  // What the media plane recorded, for the replay: read from disk, with or without a media plane.
  mountRecordings(app, routes)
  server.use(table.handler)
  server.use(pipeline({}))
  // The web client (another package's pages, built on first use): off in tests and API-only deployments.
  if (app.config.webClient) server.use(webClient())
  server.use(notFound)
  server.use(problemHandler(app.logger, app.config.maxBodyBytes))
  return { server, routes }
}

/** The operations port (SPACES_OPS_PORT): /healthz, /readyz and /metrics, nothing else. */
export const createOpsApp = (app: App) => {
  const server = express()
  server.disable("x-powered-by")
  server.set("etag", false)
  server.use(requestContext(app.logger, app.metrics))
  const table = new RouteTable()
  mountOps(app, new Routes(table), "ops")
  server.use(table.handler)
  server.use(notFound)
  server.use(problemHandler(app.logger, app.config.maxBodyBytes))
  return server
}
