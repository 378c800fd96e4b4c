import { Rules, SpaceId, SpaceNotFound, TopicSlug, UserId } from "@spaces/domain"
import {
  CreatorView,
  FeedEntry,
  ReadModels,
  type ReadModelsShape,
  RoomViewAt,
  ScheduledSpaceSummary,
  SearchResults,
  TopicView,
  type ViewName
} from "@spaces/projections"
import { Duration, Effect, Option, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { userOf } from "../app/request.js"
import { decodeParam, decodeQuery } from "./decode.js"
import type { Routes } from "./registry.js"

const Position = Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))

/** Every query takes `minPosition`: wait (bounded) until the views include that log position. */
const ReadYourWrites = { minPosition: Schema.optional(Position) }
const Plain = Schema.Struct(ReadYourWrites)
const FeedQuery = Schema.Struct({
  ...ReadYourWrites,
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 200)))
})
const SearchQuery = Schema.Struct({
  ...ReadYourWrites,
  q: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  topic: Schema.optional(TopicSlug)
})

const WAIT = Duration.seconds(2)

/**
 * Waits until `view` includes `position` (a command's answer), at most two seconds: only for the
 * projections that view reads, so that one lagging or stopped projection slows only its own views.
 */
export const caughtUp = (view: ViewName, position: number | undefined) =>
  position === undefined
    ? Effect.void
    : Effect.flatMap(ReadModels, (models) =>
        models.awaitPosition(view, position).pipe(Effect.timeout(WAIT), Effect.ignore)
      )

/** Reads `view` once it includes `minPosition` (read-your-writes). */
const afterPosition = <A, E>(
  view: ViewName,
  minPosition: number | undefined,
  read: (models: ReadModelsShape) => Effect.Effect<A, E>
) => Effect.zipRight(caughtUp(view, minPosition), Effect.flatMap(ReadModels, read))

export const mountQueries = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId",
      summary:
        "The room view: participants, roles, mute state, hands, invitations, counts, pinned post; " +
        "`position` is the log position it reflects: open the live stream with `?after=<position>`",
      tag: "Queries",
      auth: "user",
      query: Plain,
      params: { spaceId: SpaceId },
      response: { status: 200, schema: RoomViewAt },
      problems: [404]
    },
    async (req, res) => {
      userOf(req)
      const spaceId = decodeParam(SpaceId, req, "spaceId")
      const { minPosition } = decodeQuery(Plain, req)
      const view = await run(
        afterPosition("room", minPosition, (m) =>
          // The position is read before the view: the view then includes at least that much, so a
          // stream opened after it may repeat an event or two the view already shows, never miss one.
          Effect.flatMap(m.positionOf("room"), (position) =>
            Effect.map(
              m.room(spaceId),
              Option.map((room): RoomViewAt => ({ ...room, position }))
            )
          )
        ).pipe(
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new SpaceNotFound({ spaceId })),
              onSome: Effect.succeed
            })
          )
        )
      )
      res.json(view)
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/feed",
      summary: "Your live bar: live Spaces with people you follow, ranked",
      tag: "Queries",
      auth: "user",
      query: FeedQuery,
      response: { status: 200, schema: Schema.Array(FeedEntry) },
      problems: []
    },
    async (req, res) => {
      const user = userOf(req)
      const { minPosition, limit } = decodeQuery(FeedQuery, req)
      const feed = await run(
        afterPosition("feed", minPosition, (m) => m.feed(user, limit === undefined ? {} : { limit }))
      )
      res.json(feed)
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/topics",
      summary: "The operator's topic catalogue",
      tag: "Queries",
      auth: "user",
      response: { status: 200, schema: Schema.Array(TopicSlug) },
      problems: []
    },
    async (req, res) => {
      userOf(req)
      res.json(await run(Effect.map(Rules, (rules) => rules.topics)))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/topics/:topic",
      summary: "A topic's live Spaces (by listeners) and upcoming ones (by start time)",
      tag: "Queries",
      auth: "user",
      query: Plain,
      params: { topic: TopicSlug },
      response: { status: 200, schema: TopicView },
      problems: []
    },
    async (req, res) => {
      userOf(req)
      const topic = decodeParam(TopicSlug, req, "topic")
      const { minPosition } = decodeQuery(Plain, req)
      res.json(await run(afterPosition("topic", minPosition, (m) => m.topic(topic))))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/search",
      summary: "Search live and upcoming Spaces by words of the title and by topic",
      tag: "Queries",
      auth: "user",
      query: SearchQuery,
      response: { status: 200, schema: SearchResults },
      problems: []
    },
    async (req, res) => {
      userOf(req)
      const { minPosition, q, topic } = decodeQuery(SearchQuery, req)
      const query = { ...(q === undefined ? {} : { text: q }), ...(topic === undefined ? {} : { topic }) }
      res.json(await run(afterPosition("search", minPosition, (m) => m.search(query))))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/creators/:user",
      summary: "A user's hosted Spaces: live, scheduled, ended (with recording)",
      tag: "Queries",
      auth: "user",
      query: Plain,
      params: { user: UserId },
      response: { status: 200, schema: CreatorView },
      problems: []
    },
    async (req, res) => {
      userOf(req)
      const user = decodeParam(UserId, req, "user")
      const { minPosition } = decodeQuery(Plain, req)
      res.json(await run(afterPosition("creator", minPosition, (m) => m.creator(user))))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/me/reminders",
      summary: "Scheduled Spaces you set a reminder on, soonest first",
      tag: "Queries",
      auth: "user",
      query: Plain,
      response: { status: 200, schema: Schema.Array(ScheduledSpaceSummary) },
      problems: []
    },
    async (req, res) => {
      const user = userOf(req)
      const { minPosition } = decodeQuery(Plain, req)
      res.json(await run(afterPosition("reminders", minPosition, (m) => m.reminders(user))))
    }
  )
}
