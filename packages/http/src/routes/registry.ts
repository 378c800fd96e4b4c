import type { Request, Response, Router } from "express"
import type { Schema } from "effect"
import { infoOf } from "../app/request.js"

export type Method = "get" | "post" | "put" | "patch" | "delete"

/** A route as the OpenAPI document describes it: the same schemas the handler decodes with. */
export interface RouteSpec {
  readonly method: Method
  /** Express path (`/v1/spaces/:spaceId`). */
  readonly path: string
  readonly summary: string
  readonly tag: string
  /** "user": a user's bearer token; "service": a service token; "sse": a user token, also as `?access_token=`. */
  readonly auth: "user" | "service" | "sse" | "none"
  readonly body?: Schema.Schema.Any
  readonly bodyRequired?: boolean
  readonly query?: Schema.Schema.Any
  readonly params?: Readonly<Record<string, Schema.Schema.Any>>
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

export type Handler = (req: Request, res: Response) => Promise<void> | void

/** Where routes are declared: mounted on the router and listed for the OpenAPI document. */
export class Routes {
  readonly specs: Array<RouteSpec> = []
  constructor(private readonly router: Router) {}

  add(spec: RouteSpec, handler: Handler) {
    this.specs.push(spec)
    const name = `${spec.method.toUpperCase()} ${spec.path}`
    this.router[spec.method](spec.path, async (req, res) => {
      infoOf(req).route = name
      await handler(req, res)
    })
  }
}

/** The `:name` parameters of an Express path. */
export const pathParams = (path: string): Array<string> => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
