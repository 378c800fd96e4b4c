import { SpaceId, SpaceNotFound, Spaces, participantOf } from "@spaces/domain"
import { Clock, Effect, HashSet, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { HttpProblem } from "../problems.js"
import type { Routes } from "./registry.js"

export const ReactionBody = Schema.Struct({
  emoji: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(16), Schema.pattern(/^[^\p{Cc}\s]+$/u))
}).annotations({ identifier: "ReactionBody" })

/** Reactions are ephemeral: checked against the room, broadcast to its live connections, never stored. */
export const mountReactions = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "post",
      path: "/v1/spaces/:spaceId/reactions",
      summary: "React with an emoji (broadcast to the room's live streams, not stored)",
      tag: "Live",
      auth: "user",
      params: { spaceId: SpaceId },
      body: ReactionBody,
      bodyRequired: true,
      response: { status: 202, description: "broadcast" },
      problems: [403, 404, 409]
    },
    async ({ who: user, params: { spaceId }, body: { emoji } }, _req, res) => {
      await run(
        Effect.gen(function* () {
          const state = yield* Effect.flatMap(Spaces, (spaces) => spaces.space(spaceId))
          if (state.status === "none") return yield* new SpaceNotFound({ spaceId })
          if (state.status !== "live")
            return yield* Effect.fail(
              new HttpProblem(409, "space-not-live", "Space not live", `Space ${spaceId} is ${state.status}`)
            )
          if (participantOf(state, user) === undefined || HashSet.has(state.banned, user))
            return yield* Effect.fail(
              new HttpProblem(
                403,
                "reaction-not-allowed",
                "Forbidden",
                "only the room's participants can react"
              )
            )
          const at = yield* Clock.currentTimeMillis
          yield* app.reactions.publish({ spaceId, user, emoji, at })
        })
      )
      res.status(202).end()
    }
  )
}
