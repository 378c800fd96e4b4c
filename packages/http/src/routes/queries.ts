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
import { Context, Duration, Effect, Option, Schema } from "effect"
import { type App, runSyncWith, runWith } from "../app/context.js"
import { sendJson } from "../app/respond.js"
import type { ParamSchemas, ParamsOf, Routes } from "./registry.js"

const Position = Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))

/** Every query takes `minPosition`: wait (bounded) until the views include that log position. */
const ReadYourWrites = { minPosition: Schema.optional(Position) }
const FeedQuery = {
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 200)))
}
const SearchQuery = {
  q: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  topic: Schema.optional(TopicSlug)
}

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

/** A view route: what varies between the queries that read the projections' views. */
interface ViewSpec<P extends ParamSchemas, Q extends Schema.Struct.Fields> {
  readonly path: string
  readonly summary: string
  readonly params?: P
  /** Query members besides `minPosition`, which every view takes. */
  readonly query?: Q
  readonly schema: Schema.Schema.Any
  readonly problems?: ReadonlyArray<number>
}
interface ViewInput<P extends ParamSchemas, Q extends Schema.Struct.Fields> {
  readonly who: UserId
  readonly params: ParamsOf<P>
  readonly query: Schema.Struct.Type<Q & typeof ReadYourWrites>
}

export const mountQueries = (app: App, routes: Routes) => {
  const run = runWith(app)
  const models = Context.get(app.runtime.context, ReadModels)
  // A synchronous read: a defect (a bug, or the views' file gone) is logged and answered 500 as `run` does.
  const readNow = runSyncWith(app)
  /**
   * One skeleton for every view: the registry decodes, `read` picks from the read models. `now`,
   * when a view has it, answers a request without `minPosition` without running an effect.
   */
  const addView = <const P extends ParamSchemas = {}, const Q extends Schema.Struct.Fields = {}>(
    { schema, problems = [], query, ...spec }: ViewSpec<P, Q>,
    view: ViewName,
    read: (models: ReadModelsShape, input: ViewInput<P, Q>) => Effect.Effect<unknown, unknown>,
    now?: (models: ReadModelsShape, input: ViewInput<P, Q>) => unknown
  ) =>
    routes.add(
      {
        ...spec,
        method: "get",
        tag: "Queries",
        auth: "user",
        query: Schema.Struct({ ...ReadYourWrites, ...query }),
        problems,
        response: { status: 200, schema }
      },
      async (input, req, res) => {
        const typed = input as unknown as ViewInput<P, Q>
        // Every view's query has `minPosition` (built in above); TypeScript can't see it through Q.
        const { minPosition } = typed.query as { readonly minPosition?: number }
        sendJson(
          req,
          res,
          minPosition === undefined && now !== undefined
            ? readNow(() => now(models, typed))
            : await run(afterPosition(view, minPosition, (m) => read(m, typed)))
        )
      }
    )

  addView(
    {
      path: "/v1/spaces/:spaceId",
      summary:
        "The room view: participants, roles, mute state, hands, invitations, counts, pinned post; " +
        "`position` is the log position it reflects: open the live stream with `?after=<position>`",
      params: { spaceId: SpaceId },
      schema: RoomViewAt,
      problems: [404]
    },
    "room",
    (m, { params: { spaceId } }) =>
      // The position is read before the view: the view then includes at least that much, so a
      // stream opened after it may repeat an event or two the view already shows, never miss one.
      Effect.flatMap(m.positionOf("room"), (position) =>
        Effect.flatMap(
          m.room(spaceId),
          Option.match({
            onNone: () => Effect.fail(new SpaceNotFound({ spaceId })),
            onSome: (room): Effect.Effect<RoomViewAt> => Effect.succeed({ ...room, position })
          })
        )
      )
  )
  addView(
    {
      path: "/v1/feed",
      summary: "Your live bar: live Spaces with people you follow, ranked",
      query: FeedQuery,
      schema: Schema.Array(FeedEntry)
    },
    "feed",
    (m, { who, query: { limit } }) => m.feed(who, limit === undefined ? {} : { limit }),
    (m, { who, query: { limit } }) => m.feedNow(who, limit === undefined ? {} : { limit })
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
    async (_input, _req, res) => {
      res.json(await run(Effect.map(Rules, (rules) => rules.topics)))
    }
  )
  addView(
    {
      path: "/v1/topics/:topic",
      summary: "A topic's live Spaces (by listeners) and upcoming ones (by start time)",
      params: { topic: TopicSlug },
      schema: TopicView
    },
    "topic",
    (m, { params: { topic } }) => m.topic(topic)
  )
  addView(
    {
      path: "/v1/search",
      summary: "Search live and upcoming Spaces by words of the title and by topic",
      query: SearchQuery,
      schema: SearchResults
    },
    "search",
    (m, { query: { q, topic } }) =>
      m.search({ ...(q === undefined ? {} : { text: q }), ...(topic === undefined ? {} : { topic }) })
  )
  addView(
    {
      path: "/v1/creators/:user",
      summary: "A user's hosted Spaces: live, scheduled, ended (with recording)",
      params: { user: UserId },
      schema: CreatorView
    },
    "creator",
    (m, { params: { user } }) => m.creator(user)
  )
  addView(
    {
      path: "/v1/me/reminders",
      summary: "Scheduled Spaces you set a reminder on, soonest first",
      schema: Schema.Array(ScheduledSpaceSummary)
    },
    "reminders",
    (m, { who }) => m.reminders(who)
  )
}
