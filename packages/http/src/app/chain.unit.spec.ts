import type { NextFunction, Request, RequestHandler, Response } from "express"
import { describe, expect, it } from "vitest"
import { chain } from "./chain.js"

/** Runs the chain on a dummy request; resolves with what it passed to the router's `next`. */
const run = (handlers: ReadonlyArray<RequestHandler>) =>
  new Promise<{ readonly called: boolean; readonly error: unknown }>((resolve) => {
    const next = ((error?: unknown) => resolve({ called: true, error })) as NextFunction
    chain(handlers)({} as Request, {} as Response, next)
  })

describe("chain runs a route's handlers in turn as Express does", () => {
  const seen: Array<string> = []
  const mark =
    (name: string): RequestHandler =>
    (_req, _res, next) => {
      seen.push(name)
      next()
    }

  it("each handler's next() runs the following one; past the last, the router goes on", async () => {
    seen.length = 0
    expect(await run([mark("a"), mark("b")])).toEqual({ called: true, error: undefined })
    expect(seen).toEqual(["a", "b"])
  })

  it("a thrown error, a rejected promise and next(error) stop the chain and reach the router", async () => {
    const boom = new Error("boom")
    seen.length = 0
    const thrown = await run([
      () => {
        throw boom
      },
      mark("never")
    ])
    expect(thrown.error).toBe(boom)
    expect((await run([async () => Promise.reject(boom), mark("never")])).error).toBe(boom)
    expect((await run([(_req, _res, next) => next(boom), mark("never")])).error).toBe(boom)
    expect(((await run([async () => Promise.reject(undefined)])).error as Error).message).toBe(
      "Rejected promise"
    )
    expect(seen).toEqual([])
  })

  it('next("route") leaves the route without an error; next("router") is passed on', async () => {
    seen.length = 0
    expect(await run([(_req, _res, next) => next("route"), mark("never")])).toEqual({
      called: true,
      error: undefined
    })
    expect((await run([(_req, _res, next) => next("router")])).error).toBe("router")
    expect(seen).toEqual([])
  })

  it("a handler that answers and calls nothing ends the chain", async () => {
    let called = false
    chain([() => undefined, mark("never")])(
      {} as Request,
      {} as Response,
      (() => {
        called = true
      }) as NextFunction
    )
    await new Promise((r) => setImmediate(r))
    expect(called).toBe(false)
  })
})
