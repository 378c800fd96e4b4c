import { PushSubscription, Spaces } from "@spaces/domain"
import {
  MAX_NOTIFICATIONS_LIMIT,
  type Notification,
  NotificationsPage,
  ReadModels
} from "@spaces/projections"
import { Effect, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { HttpProblem, problems } from "../problems.js"
import { lastEventId } from "../sse/sse.js"
import { addLiveRoute, pushOnChange } from "./liveRoute.js"
import { caughtUp } from "./queries.js"
import type { Routes } from "./registry.js"

const Id = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, Number.MAX_SAFE_INTEGER))
const ListQuery = Schema.Struct({
  minPosition: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER))
  ),
  before: Schema.optional(
    Id.annotations({
      description: "Only notifications older than this id (the previous page's `nextCursor`)"
    })
  ),
  limit: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, MAX_NOTIFICATIONS_LIMIT)).annotations({
      description: "Page size, default 20"
    })
  )
})

const MarkRead = Schema.Struct({
  upTo: Schema.Int.pipe(Schema.between(1, Number.MAX_SAFE_INTEGER)).annotations({
    description: "Marks this notification and every older one read"
  })
})
const ReadState = Schema.Struct({
  readUpTo: Schema.Int,
  unread: Schema.Int,
  /** The log position of the mark: `?minPosition=` on the list reads it back. */
  position: Schema.Int
})

/** The browser's `PushSubscription.toJSON()`. */
const Subscribe = Schema.Struct({
  endpoint: PushSubscription.fields.endpoint,
  expirationTime: Schema.optional(Schema.NullOr(Schema.Number)),
  keys: Schema.Struct({ p256dh: PushSubscription.fields.p256dh, auth: PushSubscription.fields.auth })
})
const Unsubscribe = Schema.Struct({ endpoint: PushSubscription.fields.endpoint })
const Subscribed = Schema.Struct({ endpoint: Schema.String, position: Schema.Int })
const VapidKey = Schema.Struct({ publicKey: Schema.String })

const unknownNotification = (upTo: number, newest: number) =>
  new HttpProblem(
    422,
    "unknown-notification",
    "Unknown notification",
    `you have no notification ${upTo}: the newest is ${newest} (a read mark can't cover notifications not yet sent)`,
    { upTo, newest }
  )

const pushNotConfigured = () =>
  problems.unavailable(
    "push-not-configured",
    "Web Push is not configured on this server (SPACES_VAPID_PUBLIC_KEY, SPACES_VAPID_PRIVATE_KEY, SPACES_VAPID_SUBJECT)"
  )

export const mountNotifications = (app: App, routes: Routes) => {
  const run = runWith(app)
  const push = app.config.push

  routes.add(
    {
      method: "get",
      path: "/v1/me/notifications",
      summary:
        "Your notifications, newest first, a page at a time (`before` = the previous page's `nextCursor`), " +
        "with the unread count of the whole list",
      tag: "Notifications",
      auth: "user",
      query: ListQuery,
      response: { status: 200, schema: NotificationsPage },
      problems: []
    },
    async ({ who: user, query: { minPosition, before, limit } }, _req, res) => {
      const page = await run(
        Effect.zipRight(
          caughtUp("notifications", minPosition),
          Effect.flatMap(ReadModels, (m) =>
            m.notifications.page(user, {
              ...(before === undefined ? {} : { before }),
              ...(limit === undefined ? {} : { limit })
            })
          )
        )
      )
      res.json(page)
    }
  )

  routes.add(
    {
      method: "post",
      path: "/v1/me/notifications/read",
      summary:
        "Marks your notifications read up to `upTo` (that one and every older one); marks only move forward",
      tag: "Notifications",
      auth: "user",
      body: MarkRead,
      bodyRequired: true,
      response: { status: 200, schema: ReadState },
      problems: [422]
    },
    async ({ who: user, body: { upTo } }, _req, res) => {
      const answer = await run(
        Effect.gen(function* () {
          const models = yield* ReadModels
          const newest = (yield* models.notifications.page(user, { limit: 1 })).notifications[0]?.id ?? 0
          if (upTo > newest) return yield* Effect.fail(unknownNotification(upTo, newest))
          const spaces = yield* Spaces
          const out = yield* spaces.executeUser({ _tag: "MarkNotificationsRead", by: user, upTo })
          yield* caughtUp("notifications", out.position)
          const { unread, readUpTo } = yield* models.notifications.unread(user)
          return { readUpTo, unread, position: out.position }
        })
      )
      res.json(answer)
    }
  )

  addLiveRoute(
    app,
    routes,
    "notifications",
    {
      path: "/v1/me/notifications/live",
      summary:
        "Server-Sent Events: `unread` ({unread, readUpTo}) on open and on every change, and each new " +
        "`notification` (id = its id). With Last-Event-ID (or `?lastEventId=`), the notifications after it are sent first",
      problems: []
    },
    ({ who: user }, req) => {
      const resumeFrom = lastEventId(req)
      return (w) =>
        Effect.gen(function* () {
          const models = yield* ReadModels
          let last =
            resumeFrom ?? (yield* models.notifications.page(user, { limit: 1 })).notifications[0]?.id ?? 0
          let sentUnread = ""
          const push = Effect.gen(function* () {
            const fresh: ReadonlyArray<Notification> = yield* models.notifications.after(user, last)
            for (const n of fresh) {
              yield* w.send("notification", n, n.id)
              last = n.id
            }
            const state = yield* models.notifications.unread(user)
            const json = JSON.stringify(state)
            if (json === sentUnread) return
            sentUnread = json
            yield* w.send("unread", state)
          })
          yield* pushOnChange(push, (change) =>
            change._tag === "Notified"
              ? models.notifications.reaches(change, user)
              : Effect.succeed(change._tag === "NotificationsRead" && change.user === user)
          )
        })
    }
  )

  routes.add(
    {
      method: "get",
      path: "/v1/push/key",
      summary: "The server's VAPID public key, the `applicationServerKey` of a browser's push subscription",
      tag: "Notifications",
      auth: "user",
      response: { status: 200, schema: VapidKey },
      problems: []
    },
    (_input, _req, res) => {
      if (push.vapid === undefined) throw pushNotConfigured()
      res.json({ publicKey: push.vapid.publicKey })
    }
  )

  const checkEndpoint = (endpoint: string) => {
    if (!push.allowInsecureEndpoints && !endpoint.startsWith("https://"))
      throw problems.badRequest("insecure-push-endpoint", "a push endpoint must be an https: URL")
  }

  routes.add(
    {
      method: "post",
      path: "/v1/me/push-subscriptions",
      summary:
        "Subscribes a browser to Web Push: the body is its `PushSubscription.toJSON()`; subscribing an endpoint again updates its keys",
      tag: "Notifications",
      auth: "user",
      body: Subscribe,
      bodyRequired: true,
      response: { status: 201, schema: Subscribed },
      problems: []
    },
    async ({ who: user, body: { endpoint, keys } }, _req, res) => {
      if (push.vapid === undefined) throw pushNotConfigured()
      checkEndpoint(endpoint)
      const out = await run(
        Effect.flatMap(Spaces, (s) =>
          s.executeUser({ _tag: "SubscribePush", by: user, endpoint, p256dh: keys.p256dh, auth: keys.auth })
        )
      )
      res.status(201).json({ endpoint, position: out.position })
    }
  )

  routes.add(
    {
      method: "delete",
      path: "/v1/me/push-subscriptions",
      summary: "Unsubscribes a browser (by its endpoint) from Web Push; unknown endpoints change nothing",
      tag: "Notifications",
      auth: "user",
      query: Unsubscribe,
      response: { status: 204 },
      problems: []
    },
    async ({ who: user, query: { endpoint } }, _req, res) => {
      await run(Effect.flatMap(Spaces, (s) => s.executeUser({ _tag: "UnsubscribePush", by: user, endpoint })))
      res.status(204).end()
    }
  )
}
