import type { ServiceId, UserId } from "@spaces/domain"
import type { Schema } from "effect"
import type { NextFunction, Request, RequestHandler, Response } from "express"
import { infoOf, serviceOf, userOf } from "../app/request.js"
import type { RouteMount } from "../app/routeTable.js"
import { chain } from "../app/chain.js"
import { OPERATOR_SCOPE } from "../auth/tokens.js"
import { decodeBody, decodeParam, decodeQuery } from "./decode.js"

export type Method = "get" | "post" | "put" | "patch" | "delete"

/**
 * Who may call a route. The registry checks it before the handler runs and hands the handler the
 * principal, so a route can't be documented as authenticated while serving anyone.
 * - `public`: no token needed (one that is sent is still verified);
 * - `user`: a user's bearer token;
 * - `user-or-signed-url`: a user's token, or none when the route checks a signed URL of its own;
 * - `operator`: a service token with the operator scope;
 * - `{ service: scope }`: a service token with that scope.
 */
export type Auth = "public" | "user" | "user-or-signed-url" | "operator" | { readonly service: string }

/** What a route's handler is given for its `auth`: the principal the registry checked. */
export type Who<A extends Auth> = A extends "user"
  ? UserId
  : A extends "user-or-signed-url"
    ? UserId | undefined
    : A extends "public"
      ? undefined
      : ServiceId

/** A route as the server serves it and the OpenAPI document describes it: the same schemas. */
export interface RouteSpec<A extends Auth = Auth> {
  readonly method: Method
  /** Express path (`/v1/spaces/:spaceId`). */
  readonly path: string
  readonly summary: string
  readonly tag: string
  readonly auth: A
  /** A Server-Sent Events stream: the token may also come as `?access_token=` (EventSource can't set headers). */
  readonly live?: true
  /** The bearer token is the route's own (the metrics token), never verified as a user's or service's. */
  readonly ownToken?: true
  /** Exempt from the per-caller rate limit (probes and scrapes). */
  readonly unlimited?: true
  /** Decoded by the registry (unknown members refused); the handler gets the result. */
  readonly body?: Schema.Schema.Any
  readonly bodyRequired?: boolean
  /** Decoded by the registry (members other than the schema's ignored). */
  readonly query?: Schema.Schema.Any
  /** Path parameters the registry decodes; the others reach the handler as strings. */
  readonly params?: ParamSchemas
  readonly response: {
    readonly status: number
    readonly schema?: Schema.Schema.Any
    readonly contentType?: string
    readonly description?: string
  }
  /** Problem statuses this route can answer besides 400/401/413/415/429/503. */
  readonly problems: ReadonlyArray<number>
  readonly idempotent?: boolean
}

type Decoded<S, K extends "body" | "query"> = S extends {
  readonly [k in K]: infer X extends Schema.Schema.Any
}
  ? Schema.Schema.Type<X>
  : undefined
/** Path parameter schemas by name. */
export type ParamSchemas = Readonly<Record<string, Schema.Schema.Any>>
export type ParamsOf<P extends ParamSchemas> = { readonly [K in keyof P]: Schema.Schema.Type<P[K]> }
type DecodedParams<S> = S extends { readonly params: infer P extends ParamSchemas }
  ? ParamsOf<P>
  : Record<string, never>

/** What the registry hands a handler: the checked principal and the decoded request. */
export interface Input<S extends { readonly auth: Auth }> {
  readonly who: Who<S["auth"]>
  readonly params: DecodedParams<S>
  readonly query: Decoded<S, "query">
  readonly body: Decoded<S, "body">
}

export type Handler<S extends RouteSpec> = (
  input: Input<S>,
  req: Request,
  res: Response
) => Promise<void> | void

/** `METHOD /path`: how logs, metrics and the tests name a route. */
export const routeKey = (spec: Pick<RouteSpec, "method" | "path">) =>
  `${spec.method.toUpperCase()} ${spec.path}`

/** The `:name` parameters of an Express path. */
export const pathParams = (path: string): Array<string> => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!)

/** The principal `auth` asks for, or the problem (401/403) of a caller who is not it. */
const principalFor = (auth: Auth, req: Request): UserId | ServiceId | undefined => {
  if (auth === "public") return undefined
  if (auth === "user") return userOf(req)
  if (auth === "user-or-signed-url") return infoOf(req).principal === undefined ? undefined : userOf(req)
  return serviceOf(req, auth === "operator" ? OPERATOR_SCOPE : auth.service)
}

const decodeParams = (spec: RouteSpec, req: Request) => {
  const out: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(spec.params ?? {}))
    out[name] = decodeParam(schema as Schema.Schema<unknown, unknown>, req, name)
  return out
}

/** The middleware that runs before a route's gate: token verification, rate limit, body parsing. */
export type Pipeline = (spec: RouteSpec) => ReadonlyArray<RequestHandler>

/** Where routes are declared: mounted on the router, guarded and decoded by their spec, and listed. */
export class Routes {
  readonly specs: Array<RouteSpec> = []
  constructor(
    private readonly router: RouteMount,
    private readonly pipeline: Pipeline = () => []
  ) {}

  add<const S extends RouteSpec>(spec: S, handler: Handler<S>) {
    this.specs.push(spec)
    const name = routeKey(spec)
    const named = (req: Request, _res: Response, next: NextFunction) => {
      infoOf(req).route = name
      next()
    }
    const serve = (req: Request, res: Response) => {
      const who = principalFor(spec.auth, req)
      const input = {
        who,
        params: decodeParams(spec, req),
        query:
          spec.query === undefined
            ? undefined
            : decodeQuery(spec.query as Schema.Schema<unknown, unknown>, req),
        body:
          spec.body === undefined ? undefined : decodeBody(spec.body as Schema.Schema<unknown, unknown>, req)
      }
      return handler(input as Input<S>, req, res)
    }
    // One layer per route: its gates and handler run in turn, not as a router layer each.
    this.router[spec.method](spec.path, chain([named, ...this.pipeline(spec), serve]))
  }
}
