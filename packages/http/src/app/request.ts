import type { ServiceId, UserId } from "@spaces/domain"
import type { Request } from "express"
import type { Principal } from "../auth/tokens.js"
import { problems } from "../problems.js"

/** What the middleware learns about a request: kept beside it, not in Express's untyped `locals`. */
export interface RequestInfo {
  readonly correlationId: string
  readonly startedAt: bigint
  principal: Principal | undefined
  /** The route pattern that matched (for logs and metrics); "unmatched" until a route runs. */
  route: string
}

/**
 * Kept on the request under a symbol of this module: a property, not a WeakMap entry, which the
 * collector would have to trace as an ephemeron for every request.
 */
const INFO: unique symbol = Symbol("spaces.requestInfo")
type WithInfo = Request & { [INFO]?: RequestInfo }

export const setInfo = (req: Request, info: RequestInfo) => {
  ;(req as WithInfo)[INFO] = info
}

export const infoOf = (req: Request): RequestInfo => {
  const info = (req as WithInfo)[INFO]
  if (info === undefined) throw new Error("request info missing: the request middleware did not run")
  return info
}

/** The acting user: from the verified token, never from the body. */
export const userOf = (req: Request): UserId => {
  const principal = infoOf(req).principal
  if (principal === undefined) throw problems.unauthorized("a bearer token is required")
  if (principal.kind !== "user")
    throw problems.forbidden(
      "user-identity-required",
      "this route acts for a user; a service token can't use it"
    )
  return principal.userId
}

/** The acting service (the transcription adapter), with the scope the route needs. */
export const serviceOf = (req: Request, scope: string): ServiceId => {
  const principal = infoOf(req).principal
  if (principal === undefined) throw problems.unauthorized("a bearer token is required")
  if (principal.kind !== "service")
    throw problems.forbidden("service-identity-required", "only a service identity can do this, not a user")
  if (!principal.scopes.includes(scope))
    throw problems.forbidden("missing-scope", `the service token lacks the ${scope} scope`)
  return principal.serviceId
}
