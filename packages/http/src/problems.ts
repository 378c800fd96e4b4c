import { ParseResult, Schema } from "effect"

/**
 * RFC 9457 problem details. Every error answer of the API is one of these, with a stable `type`
 * URI per rule so that clients branch on the rule, not on the wording.
 */
export const PROBLEM_BASE = "https://spaces.dev/problems/"

export const Problem = Schema.Struct(
  {
    type: Schema.String,
    title: Schema.String,
    status: Schema.Int,
    detail: Schema.String,
    instance: Schema.optional(Schema.String)
  },
  // Extension members: the rule's own fields (`limit`, `policy`, …).
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ identifier: "Problem", description: "RFC 9457 problem details" })
export type Problem = typeof Problem.Type

/** A problem to answer with; thrown or failed by route code and rendered by the error handler. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {}
  ) {
    super(detail)
  }

  toDocument(instance: string | undefined): Problem {
    return {
      ...this.extensions,
      type: PROBLEM_BASE + this.slug,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance === undefined ? {} : { instance })
    }
  }
}

/** "SpeakerLimitReached" → "speaker-limit-reached". */
export const kebab = (tag: string) => words(tag).join("-")
/** "NotASpeaker" → ["not", "a", "speaker"]. */
const words = (tag: string) =>
  tag
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(" ")
/** "SpeakerLimitReached" → "Speaker limit reached". */
const sentence = (tag: string) => {
  const text = words(tag).join(" ")
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** SPEC's rule kinds → statuses: who you are (403), what exists (404), when (409), what (422). */
const statusByKind: Record<string, number> = {
  not_found: 404,
  permission: 403,
  state: 409,
  limit: 422,
  invalid: 422
}

/** Errors of the adapters that carry no rule kind (the server's side, or a race of writers). */
const statusByTag: Record<string, number> = {
  EventStoreUnavailable: 503,
  MalformedEvent: 500,
  MediaUnavailable: 503,
  WrongExpectedVersion: 409
}

/** How long a client should wait before trying again after a 503: a media worker takes longer back. */
const retryAfterByTag: Record<string, string> = { MediaUnavailable: "30" }

const fieldsOf = (error: object): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error)) {
    if (key === "_tag" || key === "stack" || key === "message") continue
    fields[key] = value
  }
  return fields
}

const isTagged = (error: unknown): error is { readonly _tag: string; readonly message: string } =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  typeof error._tag === "string" &&
  "message" in error

/** A domain or adapter error as a problem: the status from its kind, its fields as extensions. */
export const fromError = (error: unknown): HttpProblem => {
  if (error instanceof HttpProblem) return error
  if (ParseResult.isParseError(error)) return malformed(error)
  if (isTagged(error)) {
    const kind = "kind" in error && typeof error.kind === "string" ? error.kind : undefined
    const status = kind === undefined ? statusByTag[error._tag] : statusByKind[kind]
    if (status !== undefined) {
      const headers: Record<string, string> =
        status === 503 ? { "retry-after": retryAfterByTag[error._tag] ?? "1" } : {}
      return new HttpProblem(
        status,
        kebab(error._tag),
        sentence(error._tag),
        error.message,
        fieldsOf(error),
        headers
      )
    }
  }
  return new HttpProblem(
    500,
    "internal",
    "Internal server error",
    "an unexpected error occurred; it was logged"
  )
}

/**
 * A media-plane signalling error as a problem: the same mapping as every other error (its tags
 * start with "Media", so its problem types read `media-…`). Kept as a name for the media routes.
 */
export const fromMediaError: (error: { readonly _tag: string; readonly message: string }) => HttpProblem =
  fromError

/** A request that does not decode: 400 with every issue and where it is. */
export const malformed = (error: ParseResult.ParseError, where = "body"): HttpProblem => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message
  }))
  return new HttpProblem(
    400,
    "malformed-request",
    "Malformed request",
    issues.map((i) => `${i.path}: ${i.message}`).join("; ") || "the request does not decode",
    { errors: issues }
  )
}

export const problems = {
  unauthorized: (detail: string) =>
    new HttpProblem(
      401,
      "unauthorized",
      "Unauthorized",
      detail,
      {},
      { "www-authenticate": 'Bearer realm="spaces"' }
    ),
  forbidden: (slug: string, detail: string) => new HttpProblem(403, slug, "Forbidden", detail),
  notFound: (detail: string) => new HttpProblem(404, "not-found", "Not found", detail),
  rateLimited: (retryAfterSeconds: number) =>
    new HttpProblem(
      429,
      "rate-limited",
      "Too many requests",
      `slow down: try again in ${retryAfterSeconds}s`,
      { retryAfter: retryAfterSeconds },
      { "retry-after": String(retryAfterSeconds) }
    ),
  /** Too many failed authentications from one client address. */
  authRateLimited: (retryAfterSeconds: number) =>
    new HttpProblem(
      429,
      "too-many-failed-authentications",
      "Too many failed authentications",
      `too many failed authentications from this address: try again in ${retryAfterSeconds}s`,
      { retryAfter: retryAfterSeconds },
      { "retry-after": String(retryAfterSeconds) }
    ),
  /** A per-user or per-process cap of open event streams. */
  tooManyStreams: (limit: "perUser" | "total", max: number) =>
    new HttpProblem(
      429,
      "too-many-streams",
      "Too many event streams",
      limit === "perUser"
        ? `you have ${max} event streams open already (the most one user may); close one first`
        : `the server has ${max} event streams open (its most); try again later`,
      { limit, max },
      { "retry-after": "5" }
    ),
  /** Posts over the per-user, per-Space budget. */
  postsRateLimited: (retryAfterSeconds: number, perMinute: number) =>
    new HttpProblem(
      429,
      "post-rate-limited",
      "Too many posts",
      `at most ${perMinute} posts per minute in one Space: try again in ${retryAfterSeconds}s`,
      { retryAfter: retryAfterSeconds, perMinute },
      { "retry-after": String(retryAfterSeconds) }
    ),
  unsupportedMediaType: (detail: string) =>
    new HttpProblem(415, "unsupported-media-type", "Unsupported media type", detail),
  tooLarge: (limit: number) =>
    new HttpProblem(413, "payload-too-large", "Payload too large", `the body exceeds ${limit} bytes`, {
      limit
    }),
  badRequest: (slug: string, detail: string) => new HttpProblem(400, slug, "Bad request", detail),
  unavailable: (slug: string, detail: string) =>
    new HttpProblem(503, slug, "Service unavailable", detail, {}, { "retry-after": "30" })
}
