import type { NextFunction, Request, RequestHandler, Response } from "express"

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"

/**
 * Middleware run in turn as one: what Express does for a route's handlers (`next()` goes on, a
 * thrown error, a rejected promise or `next(error)` stops and goes to the error handler,
 * `next("route")` leaves the route), without a router layer per handler on every request.
 */
export const chain =
  (handlers: ReadonlyArray<RequestHandler>): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    let index = 0
    const step = (error?: unknown) => {
      if (error === "route") return next()
      if (error === "router") return next("router")
      if (error) return next(error)
      const handler = handlers[index++]
      if (handler === undefined) return next()
      try {
        const result: unknown = handler(req, res, step)
        if (isThenable(result))
          result.then(undefined, (rejected: unknown) => step(rejected || new Error("Rejected promise")))
      } catch (thrown) {
        step(thrown)
      }
    }
    step()
  }
