import { routeKey } from "@spaces/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { request, startTestServer, type TestServer } from "./harness.js"

interface Operation {
  readonly security: ReadonlyArray<unknown>
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly in: string }>
  readonly responses: Record<string, unknown>
}

/** The OpenAPI document is the registry's: every route, with the auth its spec enforces. */
describe("the OpenAPI document", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  it("describes every route of the registry, and nothing else, with the auth the registry enforces", async () => {
    const document = (await request(t.url, "GET", "/openapi.json")).body as {
      paths: Record<string, Record<string, Operation>>
    }
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`)
    )
    expect(described.sort()).toEqual(t.server.routes.map(routeKey).sort())
    for (const route of t.server.routes) {
      const operation = document.paths[route.path.replace(/:(\w+)/g, "{$1}")]![route.method]!
      const name = routeKey(route)
      if (route.auth === "public") {
        expect(operation.security, name).toEqual([])
        // A public route answers 401 only for a token of its own (the metrics token).
        expect(operation.responses["401"] !== undefined, name).toBe(route.problems.includes(401))
      } else {
        expect(operation.security, name).toEqual([{ bearer: [] }])
        expect(operation.responses["401"], name).toBeDefined()
      }
      const tokenInQuery = operation.parameters.some((p) => p.name === "access_token" && p.in === "query")
      expect(tokenInQuery, name).toBe(route.live === true)
    }
  })
})
