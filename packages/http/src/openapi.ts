import { JSONSchema, type Schema } from "effect"
import { Problem } from "./problems.js"
import type { RouteSpec } from "./routes/registry.js"

type Json = unknown

/** Rewrites `#/$defs/X` references to OpenAPI components, collecting the definitions. */
const lift = (node: Json, components: Record<string, Json>): Json => {
  if (Array.isArray(node)) return node.map((n) => lift(n, components))
  if (node === null || typeof node !== "object") return node
  const out: Record<string, Json> = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue
    if (key === "$defs" && value !== null && typeof value === "object") {
      for (const [name, def] of Object.entries(value)) components[name] = lift(def, components)
      continue
    }
    out[key] =
      key === "$ref" && typeof value === "string"
        ? value.replace("#/$defs/", "#/components/schemas/")
        : lift(value, components)
  }
  return out
}

/** The JSON Schema of an effect Schema, its named parts moved to `components.schemas`. */
const schemaOf = (schema: Schema.Schema.Any, components: Record<string, Json>): Json =>
  lift(JSONSchema.make(schema, { target: "openApi3.1" }), components)

const statusText: Record<number, string> = {
  400: "Malformed request (body, path or query does not decode)",
  401: "Missing or invalid bearer token",
  403: "Not permitted for the caller's role",
  404: "Not found",
  409: "Conflicts with the Space's state (or a concurrent change)",
  413: "Body too large",
  415: "Body is not application/json",
  422: "Breaks a rule (a limit or a validation), or reuses an Idempotency-Key for a different command",
  429: "Rate limited (see Retry-After)",
  503: "Store or media plane unavailable"
}

/** OpenAPI 3.1 from the route specs: the same schemas the routes decode with. */
export const openApiDocument = (specs: ReadonlyArray<RouteSpec>, serverUrl?: string) => {
  const components: Record<string, Json> = {}
  const problemRef = schemaOf(Problem, components)
  const paths: Record<string, Record<string, Json>> = {}
  for (const spec of specs) {
    const path = spec.path.replace(/:(\w+)/g, "{$1}")
    const parameters: Array<Json> = []
    for (const name of [...spec.path.matchAll(/:(\w+)/g)].map((m) => m[1]!)) {
      const schema = spec.params?.[name]
      parameters.push({
        name,
        in: "path",
        required: true,
        schema: schema === undefined ? { type: "string" } : schemaOf(schema, components)
      })
    }
    if (spec.query !== undefined) {
      const q = schemaOf(spec.query, components)
      if (q !== null && typeof q === "object" && "properties" in q) {
        const required = "required" in q && Array.isArray(q.required) ? q.required : []
        for (const [name, schema] of Object.entries(q.properties as Record<string, Json>))
          parameters.push({ name, in: "query", required: required.includes(name), schema })
      }
    }
    if (spec.idempotent)
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
          "A retried command with the same key is answered as the first time, not applied twice " +
          "(header idempotent-replayed: true); the key reused for a different command is refused " +
          "with 422 idempotency-key-reused",
        schema: { type: "string", maxLength: 200 }
      })
    if (spec.live) {
      parameters.push(
        {
          name: "access_token",
          in: "query",
          required: false,
          description: "The bearer token (EventSource can't send headers)",
          schema: { type: "string" }
        },
        { name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" } }
      )
    }
    const responses: Record<string, Json> = {
      [String(spec.response.status)]: {
        description: spec.response.description ?? "OK",
        ...(spec.response.schema === undefined && spec.response.contentType === undefined
          ? {}
          : {
              content: {
                [spec.response.contentType ?? "application/json"]: {
                  schema:
                    spec.response.schema === undefined
                      ? { type: "string" }
                      : schemaOf(spec.response.schema, components)
                }
              }
            })
      }
    }
    const statuses = new Set([
      400,
      413,
      415,
      429,
      503,
      ...spec.problems,
      ...(spec.auth === "public" ? [] : [401])
    ])
    for (const status of [...statuses].sort())
      responses[String(status)] = {
        description: statusText[status] ?? "Problem",
        content: { "application/problem+json": { schema: problemRef } }
      }
    const operation: Record<string, Json> = {
      summary: spec.summary,
      tags: [spec.tag],
      operationId: `${spec.method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      parameters,
      responses,
      security: spec.auth === "public" ? [] : [{ bearer: [] }]
    }
    if (spec.body !== undefined)
      operation.requestBody = {
        required: spec.bodyRequired ?? false,
        content: { "application/json": { schema: schemaOf(spec.body, components) } }
      }
    paths[path] = { ...paths[path], [spec.method]: operation }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Spaces",
      version: "1",
      description: "Live audio rooms: commands, queries, history, live updates (SSE) and media signalling"
    },
    ...(serverUrl === undefined ? {} : { servers: [{ url: serverUrl }] }),
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } }
    }
  }
}
