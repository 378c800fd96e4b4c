import { createHash, randomUUID } from "node:crypto"
import {
  type CommandError,
  type CommandOptions,
  IdempotencyKeyReused,
  SpaceCommand,
  SpaceEvent,
  Spaces,
  UserCommand,
  UserEvent
} from "@spaces/domain"
import type { Request } from "express"
import { Effect, Either, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { makeRateLimiter } from "../app/rateLimit.js"
import { infoOf, serviceOf, userOf } from "../app/request.js"
import { CAPTIONS_SCOPE } from "../auth/tokens.js"
import { fromError, malformed, problems } from "../problems.js"
import { bodySchema, type CommandRoute, commandRoutes } from "./commands.js"
import { decodeBody } from "./decode.js"
import { pathParams, type Routes } from "./registry.js"

/** What every command answers: the events it caused and where they are in the log. */
export const CommandResult = Schema.Struct({
  events: Schema.Array(Schema.Unknown),
  revision: Schema.Int,
  position: Schema.Int
}).annotations({ identifier: "CommandResult" })

const decodeSpaceCommand = Schema.decodeUnknownEither(SpaceCommand, { errors: "all" })
const decodeUserCommand = Schema.decodeUnknownEither(UserCommand, { errors: "all" })
const encodeSpaceEvents = Schema.encodeSync(Schema.Array(SpaceEvent))
const encodeUserEvents = Schema.encodeSync(Schema.Array(UserEvent))

/** A Space command's outcome as the `CommandResult` body every command route answers. */
export const spaceCommandResult = (out: {
  readonly events: ReadonlyArray<SpaceEvent>
  readonly revision: number
  readonly position: number
}): typeof CommandResult.Encoded => ({
  events: encodeSpaceEvents(out.events),
  revision: out.revision,
  position: out.position
})

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

export const mountCommands = (app: App, routes: Routes) => {
  const run = runWith(app)
  // Anyone may post in a live Space, and every post lengthens its log (which every reader reads).
  const perMinute = app.config.postsPerMinute
  const posts = makeRateLimiter({ perSecond: perMinute / 60, burst: perMinute })
  for (const route of commandRoutes) {
    const params = pathParams(route.path)
    const body = bodySchema(route, params)
    routes.add(
      {
        method: route.method,
        path: route.path,
        summary: route.summary,
        tag: route.group,
        auth: route.actor,
        body: body.schema,
        bodyRequired: body.members.length > 0,
        response: { status: route.created ? 201 : 200, schema: CommandResult },
        problems: [403, 404, 409, 422],
        idempotent: true
      },
      async (req, res) => {
        const actor =
          route.actor === "service" ? { service: serviceOf(req, CAPTIONS_SCOPE) } : { by: userOf(req) }
        const fields = decodeBody(body.schema, req)
        const key = idempotencyKey(req, "service" in actor ? `service/${actor.service}` : `user/${actor.by}`)
        const generated =
          route.generated === undefined || fields[route.generated] !== undefined
            ? {}
            : { [route.generated]: newId(route.generated === "spaceId" ? "s" : "p", route, key) }
        const fromPath = Object.fromEntries(params.map((name) => [name, req.params[name]]))
        if (route.tag === "PublishPost" && "by" in actor) {
          // User ids never contain "/": the key is unambiguous.
          const wait = posts.take(`${actor.by}/${String(fromPath.spaceId)}`)
          if (wait > 0) throw problems.postsRateLimited(wait, perMinute)
        }
        const raw = { ...fields, ...generated, ...fromPath, ...actor, _tag: route.tag }
        const toProblem = commandProblem(req.get("idempotency-key"))
        const options: CommandOptions = {
          correlationId: infoOf(req).correlationId,
          ...(key === undefined ? {} : { idempotencyKey: key })
        }

        const result =
          route.aggregate === "space"
            ? await (async () => {
                const command = Either.getOrThrowWith(decodeSpaceCommand(raw), (e) => {
                  throw malformed(e, "request")
                })
                const out = await run(
                  Effect.flatMap(Spaces, (spaces) => spaces.execute(command, options)),
                  toProblem
                )
                return {
                  replayed: out.replayed,
                  spaceId: command.spaceId,
                  body: spaceCommandResult(out)
                }
              })()
            : await (async () => {
                const command = Either.getOrThrowWith(decodeUserCommand(raw), (e) => {
                  throw malformed(e, "request")
                })
                const out = await run(
                  Effect.flatMap(Spaces, (spaces) => spaces.executeUser(command, options)),
                  toProblem
                )
                return {
                  replayed: out.replayed,
                  spaceId: undefined,
                  body: {
                    events: encodeUserEvents(out.events),
                    revision: out.revision,
                    position: out.position
                  }
                }
              })()

        if (result.replayed) res.setHeader("idempotent-replayed", "true")
        if (route.created && result.spaceId !== undefined) {
          const location =
            route.tag === "CreateSpace"
              ? `/v1/spaces/${result.spaceId}`
              : `/v1/spaces/${result.spaceId}/posts/${String(fields.postId ?? generated.postId ?? "")}`
          res.setHeader("location", location)
        }
        res.status(route.created ? 201 : 200).json(result.body)
      }
    )
  }
}
