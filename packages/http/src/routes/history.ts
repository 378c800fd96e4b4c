import {
  EventMetadata,
  SpaceEvent,
  SpaceId,
  SpaceNotFound,
  SpaceState,
  spaceAsOf,
  spaceLog
} from "@spaces/domain"
import { Effect, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { userOf } from "../app/request.js"
import { problems } from "../problems.js"
import { decodeParam, decodeQuery } from "./decode.js"
import type { Routes } from "./registry.js"

export const LoggedEvent = Schema.Struct({
  position: Schema.Int,
  revision: Schema.Int,
  event: SpaceEvent,
  metadata: EventMetadata
}).annotations({ identifier: "LoggedSpaceEvent" })
const Log = Schema.Array(LoggedEvent)

export const StateAsOf = Schema.Struct({ revision: Schema.Int, state: SpaceState }).annotations({
  identifier: "SpaceStateAsOf"
})

const StateQuery = Schema.Struct({
  position: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))
  ),
  /** An ISO 8601 time. */
  at: Schema.optional(Schema.Date)
})

const encodeLog = Schema.encodeSync(Log)
const encodeState = Schema.encodeSync(StateAsOf)

export const mountHistory = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/events",
      summary: "The Space's full event log: the source of truth",
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      response: { status: 200, schema: Log },
      problems: [404]
    },
    async (req, res) => {
      userOf(req)
      const spaceId = decodeParam(SpaceId, req, "spaceId")
      const log = await run(
        Effect.filterOrFail(
          spaceLog(spaceId),
          (entries) => entries.length > 0,
          () => new SpaceNotFound({ spaceId })
        )
      )
      res.json(encodeLog(log))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/state",
      summary: "The Space as of a log position (?position=N) or a time (?at=ISO); now without either",
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      query: StateQuery,
      response: { status: 200, schema: StateAsOf },
      problems: [404]
    },
    async (req, res) => {
      userOf(req)
      const spaceId = decodeParam(SpaceId, req, "spaceId")
      const { position, at } = decodeQuery(StateQuery, req)
      if (position !== undefined && at !== undefined)
        throw problems.badRequest("ambiguous-point-in-time", "give either position or at, not both")
      const asOf =
        at !== undefined ? { time: at.getTime() } : { position: position ?? Number.MAX_SAFE_INTEGER }
      const state = await run(
        Effect.filterOrFail(
          spaceAsOf(spaceId, asOf),
          ({ revision, state }) => revision >= 0 || state.status !== "none",
          () => new SpaceNotFound({ spaceId })
        )
      )
      res.json(encodeState(state))
    }
  )
}
