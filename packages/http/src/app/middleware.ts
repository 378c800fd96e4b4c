import { randomUUID } from "node:crypto"
import type { NextFunction, Request, Response } from "express"
import type { Tokens } from "../auth/tokens.js"
import type { Logger } from "../log.js"
import type { Metrics } from "../observability/metrics.js"
import { fromError, HttpProblem, problems } from "../problems.js"
import type { RateLimiter } from "./rateLimit.js"
import { infoOf, type RequestInfo, setInfo } from "./request.js"

/** A few headers every answer carries (an API serves no HTML: lock everything down). */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
  "cache-control": "no-store"
}

/** The API serves no HTML; the web client's pages load only their own script, styles and media. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'"
const webCsp = (connectTo: ReadonlyArray<string>) =>
  `default-src 'self'; connect-src ${["'self'", ...connectTo].join(" ")}; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`
const isApi = (path: string) => path.startsWith("/v1/") || path === "/openapi.json" || path === "/metrics"

const CORRELATION = /^[A-Za-z0-9_.:-]{1,128}$/

/**
 * Request bookkeeping: correlation id, security headers, and one JSON log line + metrics per request.
 * `connectTo`: origins the web client's pages may also fetch from (the OpenID provider's).
 */
export const requestContext = (logger: Logger, metrics: Metrics, connectTo: ReadonlyArray<string> = []) => {
  const WEB_CSP = webCsp(connectTo)
  const securityHeaders = Object.entries(SECURITY_HEADERS)
  return (req: Request, res: Response, next: NextFunction) => {
    const given = header(req, "x-correlation-id") ?? header(req, "x-request-id")
    const correlationId = given !== undefined && CORRELATION.test(given) ? given : randomUUID()
    const info: RequestInfo = {
      correlationId,
      startedAt: process.hrtime.bigint(),
      principal: undefined,
      route: "unmatched"
    }
    setInfo(req, info)
    for (const [name, value] of securityHeaders) res.setHeader(name, value)
    res.setHeader("content-security-policy", isApi(req.path) ? API_CSP : WEB_CSP)
    res.setHeader("x-correlation-id", correlationId)
    // `close` follows every response, sent (just after `finish`) or cut off: one listener for both.
    res.on("close", () => {
      const seconds = Number(process.hrtime.bigint() - info.startedAt) / 1e9
      metrics.observeRequest(req.method, info.route, res.statusCode, seconds)
      const principal = info.principal
      const url = req.originalUrl
      const query = url.indexOf("?")
      logger.info("request", {
        method: req.method,
        route: info.route,
        path: query === -1 ? url : url.slice(0, query),
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        user:
          principal === undefined
            ? null
            : principal.kind === "user"
              ? principal.userId
              : `svc:${principal.serviceId}`,
        correlationId
      })
    })
    next()
  }
}

/** A request header as `req.get` reads it (a repeated one joined), without its name lookup. */
const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name]
  return Array.isArray(value) ? value.join(", ") : value
}

/** The client's address: the socket's, or with `trust proxy` the one the trusted proxies report. */
export const clientAddress = (req: Request) => req.ip ?? req.socket.remoteAddress ?? "unknown"

/** What a route's spec says about its token and rate limit (a request no route matched says nothing). */
export interface Gate {
  /** The token may also come as `?access_token=` (a live stream: EventSource can't set headers). */
  readonly live?: true
  /** The bearer token is the route's own (the metrics token): never verified as a user's or service's. */
  readonly ownToken?: true
  /** Exempt from the per-caller rate limit. */
  readonly unlimited?: true
}

/**
 * Verifies the bearer token when there is one; the route's spec decides whether it needs one. Failed
 * authentications are counted per client address: an address over its budget is answered 429
 * before its token is even looked at (guessing tokens costs the guesser, not the server).
 */
export const authenticate =
  (tokens: Tokens, failures: RateLimiter) =>
  (gate: Gate) =>
  (req: Request, _res: Response, next: NextFunction): Promise<void> | void => {
    if (gate.ownToken) return next()
    const header = req.headers.authorization
    const live = gate.live === true && req.query.access_token !== undefined
    if (header === undefined && !live) return next()
    // The address (with `trust proxy`, parsed from X-Forwarded-For) only once some address failed.
    const address = failures.empty() ? undefined : clientAddress(req)
    const wait = address === undefined ? 0 : failures.peek(address)
    if (wait > 0) throw problems.authRateLimited(wait)
    const failed = (error: unknown) => {
      if (error instanceof HttpProblem && error.status === 401) failures.take(address ?? clientAddress(req))
      throw error
    }
    let token: string
    try {
      token = bearerToken(req, header)
    } catch (error) {
      return failed(error)
    }
    // A token verified before is known at once (most requests): no promise to wait for.
    const known = tokens.verified(token)
    if (known !== undefined) {
      infoOf(req).principal = known
      return next()
    }
    return tokens.verify(token).then((principal) => {
      infoOf(req).principal = principal
      next()
    }, failed)
  }

/** The token of `Authorization: Bearer <token>`, or of `?access_token=` (live streams) without one. */
const bearerToken = (req: Request, header: string | undefined): string => {
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header.trim())
    if (match === null) throw problems.unauthorized("the Authorization header must be 'Bearer <token>'")
    return match[1]!
  }
  if (typeof req.query.access_token !== "string")
    throw problems.unauthorized("access_token must be a single token")
  return req.query.access_token
}

/** Token-bucket rate limiting per user (per address before authentication). */
export const rateLimit =
  (limiter: RateLimiter) => (gate: Gate) => (req: Request, _res: Response, next: NextFunction) => {
    if (gate.unlimited) return next()
    const principal = infoOf(req).principal
    const key =
      principal === undefined
        ? `ip:${clientAddress(req)}`
        : principal.kind === "user"
          ? `user:${principal.userId}`
          : `svc:${principal.serviceId}`
    const wait = limiter.take(key)
    if (wait > 0) throw problems.rateLimited(wait)
    next()
  }

/** A body must be JSON: anything else is 415 before the parser sees it. */
export const requireJson = (req: Request, _res: Response, next: NextFunction) => {
  const hasBody =
    req.get("transfer-encoding") !== undefined ||
    (req.get("content-length") !== undefined && req.get("content-length") !== "0")
  if (hasBody && req.is(["application/json", "application/*+json"]) === false)
    throw problems.unsupportedMediaType("request bodies must be application/json")
  next()
}

/** Unknown routes. */
export const notFound = (req: Request, _res: Response, next: NextFunction) => {
  next(problems.notFound(`no route ${req.method} ${req.path}`))
}

/** Errors of body-parser and friends carry an HTTP status and a type. */
const isHttpError = (error: unknown): error is { status: number; type?: string; message: string } =>
  typeof error === "object" &&
  error !== null &&
  "status" in error &&
  typeof error.status === "number" &&
  error.status >= 400 &&
  error.status < 500

/** Every error becomes an RFC 9457 problem document. */
export const problemHandler =
  (logger: Logger, maxBodyBytes: number) =>
  (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem: HttpProblem
    if (error instanceof HttpProblem) problem = error
    else if (isHttpError(error)) {
      problem =
        error.status === 413
          ? problems.tooLarge(maxBodyBytes)
          : error.status === 415
            ? problems.unsupportedMediaType(error.message)
            : new HttpProblem(
                error.status,
                error.type === "entity.parse.failed" ? "malformed-json" : "bad-request",
                error.type === "entity.parse.failed" ? "Malformed JSON" : "Bad request",
                error.type === "entity.parse.failed" ? "the body is not valid JSON" : error.message
              )
    } else {
      problem = fromError(error)
      if (problem.status >= 500)
        logger.error("unhandled error", {
          error: error instanceof Error ? (error.stack ?? error.message) : String(error)
        })
    }
    if (res.headersSent) {
      res.end()
      return
    }
    for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value)
    res
      .status(problem.status)
      .type("application/problem+json")
      .send(JSON.stringify(problem.toDocument(req.originalUrl.split("?")[0])))
  }
