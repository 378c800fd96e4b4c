import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import express, { type NextFunction, type Request, type Response } from "express"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chain } from "./chain.js"
import { type RouteMount, RouteTable } from "./routeTable.js"

type Method = "get" | "post" | "put" | "patch" | "delete"

/** Routes shaped like the API's: literal prefixes of every length, parameters, one method or several. */
const ROUTES: ReadonlyArray<readonly [Method, string]> = [
  ["get", "/healthz"],
  ["get", "/openapi.json"],
  ["post", "/v1/spaces"],
  ["get", "/v1/spaces/:spaceId"],
  ["patch", "/v1/spaces/:spaceId"],
  ["post", "/v1/spaces/:spaceId/join"],
  ["delete", "/v1/spaces/:spaceId/hand"],
  ["post", "/v1/spaces/:spaceId/hand"],
  ["get", "/v1/spaces/:spaceId/transcript.vtt"],
  ["get", "/v1/feed"],
  ["get", "/v1/feed/live"],
  ["put", "/v1/me/following/:user"],
  ["get", "/v1/:anything/x"],
  ["get", "/s/:spaceId"],
  ["get", "/:first/feed"]
]

/** Serves the routes through `mount`: each answers which route it is and the parameters it got. */
const serve = async (mount: (app: express.Express, add: (into: RouteMount) => void) => void) => {
  const app = express()
  app.set("etag", false)
  mount(app, (into) => {
    for (const [index, [method, path]] of ROUTES.entries())
      into[method](
        path,
        chain([
          // Some routes pass a request on (a parameter "x"): the following routes get it
          // (`GET /v1/spaces/x` goes on to `/v1/:anything/x`).
          (req, _res, next) =>
            next(
              (index === 3 || index % 2 === 0) && Object.values(req.params).includes("x")
                ? "route"
                : undefined
            ),
          (req: Request, res: Response) => {
            res.json({ index, params: req.params })
          }
        ])
      )
  })
  app.use((req, res) => {
    res.status(404).json({ unmatched: req.path })
  })
  app.use(
    (error: { status?: number; message: string }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(error.status ?? 500).json({ error: error.message })
    }
  )
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s))
  })
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

const answer = async (base: string, method: string, path: string) => {
  const response = await fetch(base + path, { method })
  return { status: response.status, allow: response.headers.get("allow"), body: await response.text() }
}

describe("the route table answers as one router holding every route", () => {
  let one: Awaited<ReturnType<typeof serve>>
  let table: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    one = await serve((app, add) => {
      const router = express.Router()
      add(router)
      app.use(router)
    })
    table = await serve((app, add) => {
      const routes = new RouteTable()
      add(routes)
      app.use(routes.handler)
    })
  })
  afterAll(() => {
    one.server.close()
    table.server.close()
  })

  it("the same route, parameters, status and Allow header for any method and path", async () => {
    const segment = fc.constantFrom(
      "v1",
      "V1",
      "spaces",
      "SPACES",
      "feed",
      "Feed",
      "live",
      "x",
      "",
      "hand",
      "s",
      "%76%31",
      "transcript.vtt",
      "healthz",
      "me",
      "following"
    )
    const path = fc
      .tuple(fc.array(segment, { maxLength: 4 }), fc.boolean(), fc.constantFrom("", "?a=1", "?minPosition=2"))
      .map(
        ([segments, slash, query]) =>
          `/${segments.join("/")}${slash && segments.length > 0 ? "/" : ""}${query}`
      )
    const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    await fc.assert(
      fc.asyncProperty(method, path, async (m, p) => {
        expect(await answer(table.url, m, p)).toEqual(await answer(one.url, m, p))
      }),
      { numRuns: 2000 }
    )
  })

  it("a route of each group is reached, and a path no route takes falls through", async () => {
    for (const [path, index] of [
      ["/v1/feed", 9],
      ["/V1/Feed/", 9],
      ["/v1/spaces/a/join", 5],
      ["/v1/other/x", 12],
      ["/s/abc", 13],
      ["/other/feed", 14],
      ["/v1/spaces/x", 12]
    ] as const)
      expect(JSON.parse((await answer(table.url, index === 5 ? "POST" : "GET", path)).body).index).toBe(index)
    expect(await answer(table.url, "GET", "/nothing/here")).toMatchObject({ status: 404 })
  })
})
