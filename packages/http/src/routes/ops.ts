import { EventStore } from "@spaces/domain"
import { ReadModels } from "@spaces/projections"
import { Effect } from "effect"
import { type App, runWith } from "../app/context.js"
import { openApiDocument } from "../openapi.js"
import { problems } from "../problems.js"
import type { Routes } from "./registry.js"

/** Health, readiness, metrics and the API description: unauthenticated, outside /v1. */
export const mountOps = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness: the process serves requests",
      tag: "Operations",
      auth: "none",
      response: { status: 200 },
      problems: []
    },
    (_req, res) => {
      res.json({ status: "ok" })
    }
  )
  routes.add(
    {
      method: "get",
      path: "/readyz",
      summary: "Readiness: the store answers and the projection runners are caught up enough",
      tag: "Operations",
      auth: "none",
      response: { status: 200 },
      problems: []
    },
    async (_req, res) => {
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
      auth: "none",
      response: { status: 200, contentType: "text/plain" },
      problems: []
    },
    async (_req, res) => {
      res.setHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
      res.send(await app.metrics.render())
    }
  )
  let document: unknown
  routes.add(
    {
      method: "get",
      path: "/openapi.json",
      summary: "This API, as OpenAPI 3.1",
      tag: "Operations",
      auth: "none",
      response: { status: 200 },
      problems: []
    },
    (_req, res) => {
      document ??= openApiDocument(routes.specs)
      res.json(document)
    }
  )
}
