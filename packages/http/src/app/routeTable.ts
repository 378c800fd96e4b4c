import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express"

type Method = "get" | "post" | "put" | "patch" | "delete"

/** Where routes are mounted: an Express router, or a `RouteTable`. */
export type RouteMount = {
  readonly [M in Method]: (path: string, ...handlers: Array<RequestHandler>) => unknown
}

/** How many leading literal path segments pick a request's routes. */
const DEPTH = 2
/** A segment path-to-regexp reads as plain text (no parameter, wildcard, group or escape). */
const LITERAL = /^[A-Za-z0-9._~-]+$/

/**
 * The leading literal segments of a route's path (at most `DEPTH`, lower case: Express matches
 * paths case-insensitively), up to its first parameter: `/v1/spaces/:spaceId/join` → v1, spaces.
 */
const literalPrefix = (path: string): ReadonlyArray<string> => {
  const prefix: Array<string> = []
  for (const segment of path.split("/").slice(1)) {
    if (prefix.length === DEPTH || !LITERAL.test(segment)) break
    prefix.push(segment.toLowerCase())
  }
  return prefix
}

interface Registered {
  readonly method: Method
  readonly path: string
  readonly handlers: ReadonlyArray<RequestHandler>
  readonly prefix: ReadonlyArray<string>
}

/**
 * Routes dispatched by their first path segments instead of one router trying each route's pattern
 * in turn: a request to `/v1/feed` is matched against the routes under `/v1/feed` only, not the
 * 77 of the API. Each group is an Express router holding, in registration order, every route whose
 * literal prefix is a prefix of the group's segments: a route that can match a path (same literal
 * segments, case-insensitively) is always in that path's group, so what answers, the parameters,
 * `HEAD` and `OPTIONS` are exactly what one router with every route gives.
 */
export class RouteTable implements RouteMount {
  private readonly registered: Array<Registered> = []
  /** Built on the first request (every route is mounted by then), again if a route comes later. */
  private groups: Map<string, Group> | undefined

  readonly get = (path: string, ...handlers: Array<RequestHandler>) => this.add("get", path, handlers)
  readonly post = (path: string, ...handlers: Array<RequestHandler>) => this.add("post", path, handlers)
  readonly put = (path: string, ...handlers: Array<RequestHandler>) => this.add("put", path, handlers)
  readonly patch = (path: string, ...handlers: Array<RequestHandler>) => this.add("patch", path, handlers)
  readonly delete = (path: string, ...handlers: Array<RequestHandler>) => this.add("delete", path, handlers)

  private add(method: Method, path: string, handlers: ReadonlyArray<RequestHandler>) {
    this.registered.push({ method, path, handlers, prefix: literalPrefix(path) })
    this.groups = undefined
  }

  /** The middleware that serves the table's routes (and passes on what none of them takes). */
  readonly handler = (req: Request, res: Response, next: NextFunction) => {
    this.groups ??= this.build()
    const groups = this.groups
    const path: unknown = req.path
    if (typeof path !== "string") return groups.get("")!.router(req, res, next)
    const group = groups.get(groupKey(path, groups))!
    // HEAD and OPTIONS (Express's own answers: HEAD by a GET route, OPTIONS with `Allow`) go
    // through the group's router; the other methods are dispatched here as that router would.
    if (DIRECT.has(req.method)) dispatch(group.routes, path, req, res, next)
    else group.router(req, res, next)
  }

  private build(): Map<string, Group> {
    // The keys: every route's literal prefix ("v1/feed"), and each first segment alone ("v1/" for
    // a path whose second segment no route names); "" for a path whose first no route names.
    const keys = new Set<string>([""])
    for (const { prefix } of this.registered) {
      if (prefix.length >= 1) keys.add(`${prefix[0]}/`)
      if (prefix.length === 2) keys.add(`${prefix[0]}/${prefix[1]}`)
    }
    const groups = new Map<string, Group>()
    for (const key of keys) {
      const segments = key === "" ? [] : key.split("/")
      const router = express.Router()
      const routes: Array<GroupRoute> = []
      for (const { method, path, handlers, prefix } of this.registered)
        if (prefix.every((segment, i) => segments[i] === segment)) {
          router[method](path, ...handlers)
          // The router's layer for it: its path matching (case, trailing slash, decoding) and call.
          routes.push({
            method: method.toUpperCase(),
            layer: (router.stack as unknown as Array<RouteLayer>).at(-1)!
          })
        }
      groups.set(key, { router, routes })
    }
    return groups
  }
}

/** What the table uses of an Express router's route layer. */
interface RouteLayer {
  readonly match: (path: string) => false | { readonly params: Request["params"] }
  readonly handleRequest: (req: Request, res: Response, next: NextFunction) => void
}
interface GroupRoute {
  readonly method: string
  readonly layer: RouteLayer
}
interface Group {
  readonly router: RequestHandler
  readonly routes: ReadonlyArray<GroupRoute>
}

/** Methods a route of the table answers only when registered for them (no HEAD, no OPTIONS). */
const DIRECT = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"])

/**
 * What the group's router does for a request of a `DIRECT` method, without a router of its own
 * per request: the first route whose path matches and whose method is the request's gets it, with
 * `req.params` (restored, with `req.next`, when the request leaves the group); a route that calls
 * `next()` (or `next("route")`) hands it to the following ones; an error (a malformed `%` escape
 * in a parameter, a handler's) skips the remaining routes and leaves with the error.
 */
const dispatch = (
  routes: ReadonlyArray<GroupRoute>,
  path: string,
  req: Request,
  res: Response,
  leave: NextFunction
) => {
  const params = req.params
  const previousNext = req.next
  let index = 0
  const done = (error?: unknown) => {
    req.params = params
    req.next = previousNext
    leave(error)
  }
  const next = (error?: unknown, fromRoute = true) => {
    if (error === "router") {
      setImmediate(done)
      return
    }
    let failure = error === "route" ? undefined : error
    // Past the last route, after one called next(): the router leaves on the next turn too.
    if (fromRoute && index >= routes.length) {
      setImmediate(done, failure)
      return
    }
    while (index < routes.length) {
      const { method, layer } = routes[index++]!
      let match: ReturnType<RouteLayer["match"]>
      try {
        match = layer.match(path)
      } catch (thrown) {
        failure ||= thrown
        continue
      }
      if (match === false || failure || method !== req.method) continue
      req.params = match.params
      layer.handleRequest(req, res, next)
      return
    }
    done(failure)
  }
  req.next = next
  next(undefined, false)
}

/** The group of a request path: its first two segments if some route names both, else its first. */
const groupKey = (path: string, groups: ReadonlyMap<string, unknown>): string => {
  if (path.charCodeAt(0) !== 47 /* / */) return ""
  const slash = path.indexOf("/", 1)
  const first = (slash === -1 ? path.slice(1) : path.slice(1, slash)).toLowerCase()
  if (slash !== -1) {
    const end = path.indexOf("/", slash + 1)
    const both = `${first}/${(end === -1 ? path.slice(slash + 1) : path.slice(slash + 1, end)).toLowerCase()}`
    if (groups.has(both)) return both
  }
  const alone = `${first}/`
  return groups.has(alone) ? alone : ""
}
