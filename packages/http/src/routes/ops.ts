import { timingSafeEqual } from "node:crypto"
import { EventStore } from "@spaces/domain"
import type { Request } from "express"
import { ReadModels } from "@spaces/projections"
import { Effect } from "effect"
import { type App, runWith } from "../app/context.js"
import { openApiDocument } from "../openapi.js"
import { problems } from "../problems.js"
import type { Routes } from "./registry.js"

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/

/** A client on this machine, talking to us directly (a request relayed by a proxy names its client). */
const isLocalDirect = (req: Request) =>
  LOOPBACK.test(req.socket.remoteAddress ?? "") &&
  req.get("x-forwarded-for") === undefined &&
  req.get("forwarded") === undefined

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Who may read /metrics: with SPACES_METRICS_TOKEN, whoever sends it as a bearer token (on either
 * port); without, anyone reaching the operations port, or on the main port only a direct loopback
 * client. With SPACES_OPS_PORT set the main port does not serve /metrics at all.
 */
const checkMetricsAccess = (app: App, req: Request, where: "main" | "ops") => {
  const { port, metricsToken } = app.config.ops
  if (where === "main" && port !== undefined)
    throw problems.notFound("metrics are served on the operations port (SPACES_OPS_PORT)")
  if (metricsToken !== undefined) {
    const match = /^Bearer (\S+)$/i.exec(req.get("authorization")?.trim() ?? "")
    if (match === null || !sameToken(match[1]!, metricsToken))
      throw problems.unauthorized("/metrics needs the metrics token (SPACES_METRICS_TOKEN) as a bearer token")
    return
  }
  if (where === "main" && !isLocalDirect(req))
    throw problems.forbidden(
      "metrics-local-only",
      "/metrics answers only clients on this machine; set SPACES_METRICS_TOKEN or SPACES_OPS_PORT to read it from elsewhere"
    )
}

/**
 * Health, readiness, metrics and the API description: unauthenticated, outside /v1. On the
 * operations port (`where: "ops"`) the same routes are served, without the API description.
 */
export const mountOps = (app: App, routes: Routes, where: "main" | "ops" = "main") => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness: the process serves requests",
      tag: "Operations",
      auth: "public",
      unlimited: true,
      response: { status: 200 },
      problems: []
    },
    (_input, _req, res) => {
      res.json({ status: "ok" })
    }
  )
  routes.add(
    {
      method: "get",
      path: "/readyz",
      summary: "Readiness: the store answers and the projection runners are caught up enough",
      tag: "Operations",
      auth: "public",
      unlimited: true,
      response: { status: 200 },
      problems: []
    },
    async (_input, _req, res) => {
      const report = await run(
        Effect.gen(function* () {
          const store = yield* EventStore
          const models = yield* ReadModels
          const storeOk = yield* store.readStream("$readyz-probe").pipe(
            Effect.timeout("2 seconds"),
            Effect.as(true),
            Effect.orElseSucceed(() => false)
          )
          const runners = yield* models.status
          return { storeOk, runners }
        })
      )
      const lagging = report.runners.filter(
        (r) => r.state === "failed" || r.state === "stopped" || r.lagEvents > app.config.readyMaxLagEvents
      )
      if (!report.storeOk) throw problems.unavailable("store-unreachable", "the event store does not answer")
      if (lagging.length > 0)
        throw problems.unavailable(
          "projections-behind",
          `projection runners not ready: ${lagging.map((r) => `${r.name} (${r.state}, ${r.lagEvents} behind)`).join(", ")}`
        )
      res.json({
        status: "ready",
        media: app.media.available ? "available" : `unavailable: ${app.media.reason}`,
        runners: report.runners
      })
    }
  )
  routes.add(
    {
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics",
      tag: "Operations",
      auth: "public",
      ownToken: true,
      unlimited: true,
      response: { status: 200, contentType: "text/plain" },
      problems: [401, 403, 404]
    },
    async (_input, req, res) => {
      checkMetricsAccess(app, req, where)
      res.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
      res.send(await app.metrics.render())
    }
  )
  if (where === "ops") return
  let document: unknown
  routes.add(
    {
      method: "get",
      path: "/openapi.json",
      summary: "This API, as OpenAPI 3.1",
      tag: "Operations",
      auth: "public",
      response: { status: 200 },
      problems: []
    },
    (_input, _req, res) => {
      document ??= openApiDocument(routes.specs)
      res.json(document)
    }
  )
}
