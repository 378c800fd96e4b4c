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
import { problems } from "../problems.js"
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

/** Most entries one page of `GET …/events` holds (and its default). */
export const MAX_EVENTS_PAGE = 1_000
const Position = Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))
const EventsQuery = Schema.Struct({
  after: Schema.optional(
    Position.annotations({
      description: "Only entries after this log position (the last entry of the page before)"
    })
  ),
  limit: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, MAX_EVENTS_PAGE)).annotations({
      description: `Most entries in the page (1-${MAX_EVENTS_PAGE}, default ${MAX_EVENTS_PAGE})`
    })
  )
})

const encodeLog = Schema.encodeSync(Log)

/** The Space's whole log, or `SpaceNotFound` when it has none (the history and the transcript read it). */
export const existingSpaceLog = (spaceId: SpaceId) =>
  Effect.filterOrFail(
    spaceLog(spaceId),
    (entries) => entries.length > 0,
    () => new SpaceNotFound({ spaceId })
  )
const encodeState = Schema.encodeSync(StateAsOf)

export const mountHistory = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/events",
      summary:
        "The Space's event log, the source of truth, in pages: `?after=` the last position of the " +
        "previous page, `?limit=` (default and most 1000); a page shorter than the limit is the last, " +
        'and a `Link: <…>; rel="next"` header names the next page otherwise',
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      query: EventsQuery,
      response: { status: 200, schema: Log },
      problems: [404]
    },
    async ({ params: { spaceId }, query: { after = 0, limit = MAX_EVENTS_PAGE } }, _req, res) => {
      const log = await run(existingSpaceLog(spaceId))
      const rest = log.filter((entry) => entry.position > after)
      const page = rest.slice(0, limit)
      if (rest.length > limit) {
        const next = `/v1/spaces/${encodeURIComponent(spaceId)}/events?after=${page[page.length - 1]!.position}&limit=${limit}`
        res.setHeader("link", `<${next}>; rel="next"`)
      }
      res.json(encodeLog(page))
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
    async ({ params: { spaceId }, query: { position, at } }, _req, res) => {
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
