import { request, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import express from "express"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sendJson } from "./respond.js"

const VALUES: Record<string, unknown> = {
  small: { a: 1 },
  // Express writes a body of 1,000 characters or more as a Buffer: the bytes must not differ.
  large: Array.from({ length: 60 }, (_, i) => ({ spaceId: `s-${i}`, title: "Ünïcode ✓ <&>" })),
  empty: [],
  text: "a string"
}

/** Raw status, headers (as sent, names' case included; not Date) and body. */
const raw = (base: string, method: string, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Array<string>; body: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const pairs: Array<string> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          if (res.rawHeaders[i] !== "Date") pairs.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`)
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks).toString("utf8") })
      })
    })
    req.on("error", reject)
    req.end()
  })

describe("sendJson writes what res.json writes", () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    const app = express()
    app.set("etag", false)
    app.get("/json/:name", (req, res) => {
      res.json(VALUES[req.params.name])
    })
    app.get("/send/:name", (req, res) => {
      sendJson(req, res, VALUES[req.params.name])
    })
    app.get("/created/:how", (req, res) => {
      if (req.params.how === "json") res.status(201).json({ a: 1 })
      else sendJson(req, res, { a: 1 }, 201)
    })
    app.get("/accepted/:how", (req, res) => {
      if (req.params.how === "json") res.status(202).json({ a: 1 })
      else sendJson(req, res, { a: 1 }, 202)
    })
    app.get("/typed/:how", (req, res) => {
      res.type("application/problem+json")
      if (req.params.how === "json") res.json({ a: 1 })
      else sendJson(req, res, { a: 1 })
    })
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => {
    server.close()
  })

  it("the same status, headers and bytes for GET, HEAD and conditional requests", async () => {
    for (const name of Object.keys(VALUES))
      for (const method of ["GET", "HEAD"])
        for (const headers of [
          {},
          { "if-none-match": "*" },
          { "if-modified-since": new Date().toUTCString() }
        ])
          expect(await raw(base, method, `/send/${name}`, headers)).toEqual(
            await raw(base, method, `/json/${name}`, headers)
          )
  })

  it("other statuses: 201 written the same way, any other through res.json", async () => {
    for (const path of ["created", "accepted"])
      for (const method of ["GET", "HEAD"])
        expect(await raw(base, method, `/${path}/send`)).toEqual(await raw(base, method, `/${path}/json`))
  })

  it("a content type set before is kept, as res.json keeps it", async () => {
    expect(await raw(base, "GET", "/typed/send")).toEqual(await raw(base, "GET", "/typed/json"))
  })
})
