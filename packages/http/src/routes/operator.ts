import { SpaceId, Spaces } from "@spaces/domain"
import { Effect, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { infoOf } from "../app/request.js"
import { OPERATOR_SCOPE } from "../auth/tokens.js"
import { CommandResult, spaceCommandResult } from "./executeCommands.js"
import type { Routes } from "./registry.js"

export const OperatorEndBody = Schema.Struct({
  reason: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(500)).annotations({
    description: "Why the operator ends it: kept in the log (the `note` of `SpaceEnded`)"
  })
}).annotations({ identifier: "OperatorEndBody" })

/**
 * The operator's end (SPEC §1 End): an identity with the operator scope ends any scheduled or live
 * Space, whoever hosts it. The service id is the `by` of the `SpaceEnded` event; users are refused.
 */
export const mountOperator = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "post",
      path: "/v1/operator/spaces/:spaceId/end",
      summary: `End any scheduled or live Space with a reason (a service token with the ${OPERATOR_SCOPE} scope)`,
      tag: "Operator",
      auth: "operator",
      params: { spaceId: SpaceId },
      body: OperatorEndBody,
      bodyRequired: true,
      response: { status: 200, schema: CommandResult },
      problems: [403, 404, 409, 422]
    },
    async ({ who: operator, params: { spaceId }, body: { reason } }, req, res) => {
      const out = await run(
        Effect.flatMap(Spaces, (spaces) =>
          spaces.execute(
            { _tag: "EndSpaceByOperator", spaceId, operator, reason },
            { correlationId: infoOf(req).correlationId }
          )
        )
      )
      res.json(spaceCommandResult(out))
    }
  )
}
