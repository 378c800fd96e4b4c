import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { webRoutesModule } from "@spaces/http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestServer, type TestServer } from "./harness.js"

/** The web client types its calls from this file: it must be the server's route table, now. */
const file = fileURLToPath(new URL("../../packages/http/web/src/routes.gen.ts", import.meta.url))

describe("the web client's route table", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  it("is the server's route registry (regenerate with `npm run gen:web-routes`)", () => {
    expect(readFileSync(file, "utf8")).toBe(webRoutesModule(t.server.routes))
  })
})
