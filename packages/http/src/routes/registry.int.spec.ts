import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { ServiceId, UserId } from "@spaces/domain"
import express from "express"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { notFound, problemHandler, requestContext } from "../app/middleware.js"
import { gates } from "../app/server.js"
import { CAPTIONS_SCOPE, makeTokens, OPERATOR_SCOPE } from "../auth/tokens.js"
import { loadConfig } from "../config.js"
import { makeLogger } from "../log.js"
import { Metrics } from "../observability/metrics.js"
import { Routes } from "./registry.js"

/**
 * The registry enforces a route's `auth` itself: these handlers never look at who is calling, and
 * still only the principal the spec names gets through. The gates are the server's own.
 */
const SECRET = "registry-test-secret-registry-test-secret-0"
const config = loadConfig({ SPACES_JWT_SECRET: SECRET, SPACES_LOG_LEVEL: "silent" })
const tokens = makeTokens(config.auth)
const user = () => tokens.issue({ kind: "user", userId: UserId.make("alice") })
const service = (scopes: ReadonlyArray<string>) =>
  tokens.issue({ kind: "service", serviceId: ServiceId.make("svc"), scopes })

const ok = (_input: unknown, _req: express.Request, res: express.Response) => {
  res.json({ ok: true })
}

const seen: Array<unknown> = []

/** A server with the test routes behind the server's own gates, with this rate limit. */
const serve = async (rateLimit: { readonly perSecond: number; readonly burst: number }) => {
  const app = express()
  app.use(requestContext(makeLogger("silent"), new Metrics()))
  const pipeline = gates(tokens, { ...config, rateLimit, authFailuresPerMinute: 1_000_000 })
  const router = express.Router()
  const routes = new Routes(router, pipeline)
  const common = {
    method: "get",
    summary: "test",
    tag: "Test",
    response: { status: 200 },
    problems: []
  } as const
  routes.add({ ...common, path: "/forgetful", auth: "user" }, ok)
  routes.add({ ...common, path: "/who", auth: "user" }, ({ who }, _req, res) => {
    seen.push(who)
    res.json({ who })
  })
  routes.add({ ...common, path: "/operator", auth: "operator" }, ok)
  routes.add({ ...common, path: "/captions", auth: { service: CAPTIONS_SCOPE } }, ok)
  routes.add({ ...common, path: "/public", auth: "public" }, ok)
  routes.add({ ...common, path: "/signed", auth: "user-or-signed-url" }, ({ who }, _req, res) => {
    res.json({ who: who ?? null })
  })
  routes.add({ ...common, path: "/live", auth: "user", live: true }, ok)
  routes.add({ ...common, path: "/own", auth: "public", ownToken: true, unlimited: true }, ok)
  app.use(router)
  app.use(pipeline({}))
  app.use(notFound)
  app.use(problemHandler(makeLogger("silent"), config.maxBodyBytes))
  const server: Server = app.listen(0, "127.0.0.1")
  await new Promise((resolve) => server.once("listening", resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const get = async (path: string, token?: string) => {
    const response = await fetch(base + path, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` }
    })
    const text = await response.text()
    return { status: response.status, type: response.headers.get("content-type"), body: JSON.parse(text) }
  }
  return { get, close: () => new Promise((resolve) => server.close(resolve)) }
}

describe("route registry", () => {
  let get: Awaited<ReturnType<typeof serve>>["get"]
  let close: () => Promise<unknown>
  beforeAll(async () => {
    ;({ get, close } = await serve({ perSecond: 1_000_000, burst: 1_000_000 }))
  })
  afterAll(() => close())

  it("refuses an `auth: user` route without a token though its handler never reads the user", async () => {
    const answer = await get("/forgetful")
    expect(answer.status).toBe(401)
    expect(answer.type).toContain("application/problem+json")
    expect(answer.body).toMatchObject({ status: 401, type: expect.stringContaining("unauthorized") })
    expect((await get("/forgetful", await service([CAPTIONS_SCOPE]))).status).toBe(403)
    expect((await get("/forgetful", await user())).status).toBe(200)
  })

  it("hands the handler the principal it checked", async () => {
    expect((await get("/who", await user())).body).toEqual({ who: "alice" })
    expect(seen).toEqual(["alice"])
  })

  it("lets only a service with the route's scope through a service route", async () => {
    expect((await get("/captions")).status).toBe(401)
    expect((await get("/captions", await user())).status).toBe(403)
    expect((await get("/captions", await service([OPERATOR_SCOPE]))).status).toBe(403)
    expect((await get("/captions", await service([CAPTIONS_SCOPE]))).status).toBe(200)
  })

  it("lets only an operator through an operator route", async () => {
    expect((await get("/operator")).status).toBe(401)
    expect((await get("/operator", await user())).status).toBe(403)
    expect((await get("/operator", await service([CAPTIONS_SCOPE]))).status).toBe(403)
    expect((await get("/operator", await service([OPERATOR_SCOPE]))).status).toBe(200)
  })

  it("serves a public route without a token, and still refuses a bad one", async () => {
    expect((await get("/public")).status).toBe(200)
    expect((await get("/public", "not-a-token")).status).toBe(401)
  })

  it("passes a signed-URL route without a token, but never a service as its user", async () => {
    expect((await get("/signed")).body).toEqual({ who: null })
    expect((await get("/signed", await user())).body).toEqual({ who: "alice" })
    expect((await get("/signed", await service([CAPTIONS_SCOPE]))).status).toBe(403)
  })

  it("takes `?access_token=` only on a live route", async () => {
    const token = await user()
    expect((await get(`/live?access_token=${token}`)).status).toBe(200)
    expect((await get(`/forgetful?access_token=${token}`)).status).toBe(401)
  })

  it("leaves a route's own token unverified and exempts it from the rate limit", async () => {
    const strict = await serve({ perSecond: 0.001, burst: 3 })
    try {
      for (let i = 0; i < 5; i++) expect((await strict.get("/own", "the-metrics-token")).status).toBe(200)
      // Every other route counts: three at once, then 429.
      const token = await user()
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((await strict.get("/forgetful", token)).status)
      expect(statuses).toEqual([200, 200, 200, 429])
    } finally {
      await strict.close()
    }
  })
})
