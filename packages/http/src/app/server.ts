import express from "express"
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
import { Routes } from "../routes/registry.js"
import { mountSignIn } from "../routes/signIn.js"
import { mountShare } from "../routes/share.js"
import { webClient } from "../routes/webClient.js"
import type { App } from "./context.js"
import {
  authenticate,
  notFound,
  problemHandler,
  rateLimit,
  requestContext,
  requireJson
} from "./middleware.js"
import { makeRateLimiter } from "./rateLimit.js"

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
  const perMinute = app.config.authFailuresPerMinute
  server.use(authenticate(app.tokens, makeRateLimiter({ perSecond: perMinute / 60, burst: perMinute })))
  server.use(rateLimit(makeRateLimiter(app.config.rateLimit)))
  server.use(requireJson)
  server.use(
    express.json({
      limit: app.config.maxBodyBytes,
      type: ["application/json", "application/*+json"],
      strict: true
    })
  )
  const router = express.Router()
  const routes = new Routes(router)
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
  mountReactions(app, routes)
  mountLive(app, routes)
  mountNotifications(app, routes)
  mountMedia(app, routes)
  // What the media plane recorded, for the replay: read from disk, with or without a media plane.
  mountRecordings(app, routes)
  server.use(router)
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
  const router = express.Router()
  mountOps(app, new Routes(router), "ops")
  server.use(router)
  server.use(notFound)
  server.use(problemHandler(app.logger, app.config.maxBodyBytes))
  return server
}
