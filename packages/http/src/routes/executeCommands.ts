import { createHash, randomUUID } from "node:crypto"
import {
  type CommandError,
  type CommandOptions,
  type Executed,
  IdempotencyKeyReused,
  type Outcome,
  SpaceCommand,
  SpaceEvent,
  Spaces,
  type SpacesShape,
  UserCommand,
  UserEvent
} from "@spaces/domain"
import type { Request } from "express"
import { Effect, Either, type ParseResult, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { makeRateLimiter } from "../app/rateLimit.js"
import { sendJson } from "../app/respond.js"
import { infoOf } from "../app/request.js"
import { CAPTIONS_SCOPE } from "../auth/tokens.js"
import { fromError, type HttpProblem, malformed, problems } from "../problems.js"
import { bodySchema, type CommandRoute, commandRoutes } from "./commands.js"
import { pathParams, type Routes } from "./registry.js"

/** What every command answers: the events it caused and where they are in the log. */
export const CommandResult = Schema.Struct({
  events: Schema.Array(Schema.Unknown),
  revision: Schema.Int,
  position: Schema.Int
}).annotations({ identifier: "CommandResult" })

/** How a command of one aggregate is decoded, executed and answered: the one place they differ. */
interface Aggregate<C, E> {
  readonly decode: (raw: unknown) => Either.Either<C, ParseResult.ParseError>
  readonly execute: (
    spaces: SpacesShape,
    command: C,
    options: CommandOptions
  ) => Effect.Effect<Executed<E>, CommandError>
  readonly encode: (events: ReadonlyArray<E>) => ReadonlyArray<unknown>
}

const aggregate = <C, CI, E, EI>(
  command: Schema.Schema<C, CI>,
  event: Schema.Schema<E, EI>,
  execute: Aggregate<C, E>["execute"]
): Aggregate<C, E> => ({
  decode: Schema.decodeUnknownEither(command, { errors: "all" }),
  execute,
  encode: Schema.encodeSync(Schema.Array(event))
})

const aggregates = {
  space: aggregate(SpaceCommand, SpaceEvent, (spaces, command, options) => spaces.execute(command, options)),
  user: aggregate(UserCommand, UserEvent, (spaces, command, options) => spaces.executeUser(command, options))
}

/** A command's outcome as the `CommandResult` body every command route answers. */
const resultOf =
  <E>(encode: Aggregate<unknown, E>["encode"]) =>
  (out: Outcome<E>): typeof CommandResult.Encoded => ({
    events: encode(out.events),
    revision: out.revision,
    position: out.position
  })

/** A Space command's outcome as the `CommandResult` body every command route answers. */
export const spaceCommandResult = resultOf(aggregates.space.encode)

const KEY = /^[\x21-\x7e]{1,200}$/

/**
 * The `Idempotency-Key` header, validated; scoped to the caller so two callers' keys never collide.
 * The scope is `user/<id>/` or `service/<id>/`: ids never contain "/", so the first "/" after the
 * kind ends the id (ids may contain ":", which made `caller:key` ambiguous).
 */
const idempotencyKey = (req: Request, caller: string): string | undefined => {
  const key = req.get("idempotency-key")
  if (key === undefined) return undefined
  if (!KEY.test(key))
    throw problems.badRequest(
      "invalid-idempotency-key",
      "Idempotency-Key must be 1-200 visible ASCII characters"
    )
  return `${caller}/${key}`
}

/**
 * A command's error as a problem. A reused key becomes 422 `idempotency-key-reused` (as the IETF
 * Idempotency-Key draft prescribes), naming the key the client sent rather than its scoped form.
 */
const commandProblem = (header: string | undefined) => (error: CommandError) =>
  fromError(
    error instanceof IdempotencyKeyReused && header !== undefined
      ? new IdempotencyKeyReused({ key: header })
      : error
  )

/** A new id, or with an idempotency key the same id for every retry (so a retry finds the first one). */
const newId = (prefix: string, route: CommandRoute, key: string | undefined) =>
  key === undefined
    ? `${prefix}_${randomUUID()}`
    : `${prefix}_${createHash("sha256").update(`${route.tag}\0${key}`).digest("base64url").slice(0, 24)}`

/** Runs one command of `kind`'s aggregate: the raw command decoded, executed, answered. */
const executeOne = <C, E>(
  run: ReturnType<typeof runWith>,
  { decode, execute, encode }: Aggregate<C, E>,
  raw: unknown,
  options: CommandOptions,
  toProblem: (error: CommandError) => HttpProblem
) => {
  const command = Either.getOrThrowWith(decode(raw), (e) => {
    throw malformed(e, "request")
  })
  return run(
    Effect.flatMap(Spaces, (spaces) => execute(spaces, command, options)),
    toProblem
  ).then((out) => ({ replayed: out.replayed, body: resultOf(encode)(out) }))
}

export const mountCommands = (app: App, routes: Routes) => {
  const run = runWith(app)
  // Anyone may post in a live Space, and every post lengthens its log (which every reader reads).
  const perMinute = app.config.postsPerMinute
  const posts = makeRateLimiter({ perSecond: perMinute / 60, burst: perMinute })
  for (const route of commandRoutes) {
    const params = pathParams(route.path)
    const body = bodySchema(route, params)
    const status = route.created ? 201 : 200
    routes.add(
      {
        method: route.method,
        path: route.path,
        summary: route.summary,
        tag: route.group,
        auth: route.actor === "service" ? { service: CAPTIONS_SCOPE } : "user",
        body: body.schema,
        bodyRequired: body.members.length > 0,
        response: { status, schema: CommandResult },
        problems: [403, 404, 409, 422],
        idempotent: true
      },
      async ({ who, body: fields }, req, res) => {
        // The actor is the checked principal: `by` a user, or the transcription `service`.
        const actor = route.actor === "service" ? "service" : "by"
        const key = idempotencyKey(req, `${route.actor}/${who}`)
        const generated =
          route.generated === undefined || fields[route.generated] !== undefined
            ? {}
            : { [route.generated]: newId(route.generated === "spaceId" ? "s" : "p", route, key) }
        const fromPath = Object.fromEntries(params.map((name) => [name, req.params[name]]))
        if (route.tag === "PublishPost") {
          // User ids never contain "/": the key is unambiguous.
          const wait = posts.take(`${who}/${String(fromPath.spaceId)}`)
          if (wait > 0) throw problems.postsRateLimited(wait, perMinute)
        }
        const raw = { ...fields, ...generated, ...fromPath, [actor]: who, _tag: route.tag }
        const options: CommandOptions = {
          correlationId: infoOf(req).correlationId,
          ...(key === undefined ? {} : { idempotencyKey: key })
        }
        const result = await executeOne(
          run,
          aggregates[route.aggregate] as Aggregate<unknown, unknown>,
          raw,
          options,
          commandProblem(req.get("idempotency-key"))
        )
        if (result.replayed) res.setHeader("idempotent-replayed", "true")
        if (route.created) {
          const spaceId = String(raw.spaceId)
          const location =
            route.tag === "CreateSpace"
              ? `/v1/spaces/${spaceId}`
              : `/v1/spaces/${spaceId}/posts/${String(fields.postId ?? generated.postId ?? "")}`
          res.setHeader("location", location)
        }
        sendJson(req, res, result.body, status)
      }
    )
  }
}
