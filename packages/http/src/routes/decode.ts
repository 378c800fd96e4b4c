import type { Request } from "express"
import { Either, type ParseResult, Schema } from "effect"
import { isTypeLiteral, type ParseOptions } from "effect/SchemaAST"
import { problems } from "../problems.js"
import { malformed } from "../problems.js"

const strict: ParseOptions = { errors: "all", onExcessProperty: "error" }

/** Decodes the JSON body (absent body = `{}`); unknown members are refused, not ignored. */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, req: Request): A => {
  const body: unknown = req.body ?? {}
  // `Schema.Struct({})` is TypeScript's `{}`: it takes any value. A command with no body members
  // takes nothing but an empty object.
  const ast = schema.ast
  if (isTypeLiteral(ast) && ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) {
    const empty =
      typeof body === "object" && body !== null && !Array.isArray(body) && Object.keys(body).length === 0
    if (!empty)
      throw problems.badRequest(
        "malformed-request",
        "this command takes no body members (send {} or nothing)"
      )
  }
  return Either.getOrThrowWith(Schema.decodeUnknownEither(schema, strict)(body), (error) => {
    throw malformed(error, "body")
  })
}

/** What each query schema makes of no query string at all (most requests): decoded once. */
const noQuery = new WeakMap<Schema.Schema.Any, Either.Either<unknown, ParseResult.ParseError>>()

/** Decodes the query string (members other than the schema's are ignored: caches add their own). */
export const decodeQuery = <A, I>(schema: Schema.Schema<A, I>, req: Request): A => {
  let decoded: Either.Either<A, ParseResult.ParseError>
  if (req.url.includes("?")) decoded = Schema.decodeUnknownEither(schema, { errors: "all" })(req.query)
  else {
    let known = noQuery.get(schema) as Either.Either<A, ParseResult.ParseError> | undefined
    if (known === undefined) {
      known = Schema.decodeUnknownEither(schema, { errors: "all" })({})
      noQuery.set(schema, known)
    }
    decoded = known
  }
  return Either.getOrThrowWith(decoded, (error) => {
    throw malformed(error, "query")
  })
}

export const decodeParam = <A, I>(schema: Schema.Schema<A, I>, req: Request, name: string): A =>
  Either.getOrThrowWith(Schema.decodeUnknownEither(schema)(req.params[name]), (error) => {
    throw malformed(error, `path.${name}`)
  })
