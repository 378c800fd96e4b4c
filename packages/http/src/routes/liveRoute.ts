import { ReadModels, type ViewChange } from "@spaces/projections"
import { Effect, Schedule, Stream } from "effect"
import type { Request } from "express"
import type { App, AppServices } from "../app/context.js"
import { openSse, type SseConnection, type SseWriter } from "../sse/sse.js"
import type { Input, RouteSpec, Routes } from "./registry.js"

/** What varies between live (SSE) routes; the rest (user token, `?access_token=`, tag) they share. */
export type LiveSpec = Omit<RouteSpec<"user">, "method" | "tag" | "auth" | "live" | "response">

/** What a live stream sends while it is open. */
export type LiveBody = (writer: SseWriter) => Effect.Effect<void, unknown, AppServices>

/**
 * Registers a Server-Sent Events route: `prepare` checks the request (a problem answers it as
 * usual) and returns the stream's body, which runs until the client goes away.
 */
export const addLiveRoute = <const S extends LiveSpec>(
  app: App,
  routes: Routes,
  kind: SseConnection["kind"],
  spec: S,
  prepare: (input: Input<S & Pick<RouteSpec<"user">, "auth">>, req: Request) => Promise<LiveBody> | LiveBody
) =>
  routes.add(
    {
      ...spec,
      method: "get",
      tag: "Live",
      auth: "user",
      live: true,
      response: { status: 200, contentType: "text/event-stream" }
    },
    async (input, req, res) => {
      const typed = input as unknown as Input<S & Pick<RouteSpec<"user">, "auth">>
      const body = await prepare(typed, req)
      openSse(app, req, res, kind, typed.who, (w) =>
        body(w).pipe(Effect.catchAllCause((cause) => Effect.logDebug(`${kind} stream ended`, cause)))
      )
    }
  )

/**
 * Runs `push` now, again whenever a change of the views `concerns` this stream (changes that come
 * together are pushed once), and every two seconds: the reconcile covers a change that lands
 * between the first read and the subscription.
 */
export const pushOnChange = <R>(
  push: Effect.Effect<void, unknown, R>,
  concerns: (change: ViewChange) => Effect.Effect<boolean>
) =>
  Effect.gen(function* () {
    const models = yield* ReadModels
    const touched = models.changes.pipe(
      Stream.filterEffect(concerns),
      Stream.groupedWithin(1024, "20 millis"),
      Stream.runForEach(() => push)
    )
    const reconcile = push.pipe(Effect.repeat(Schedule.spaced("2 seconds")))
    yield* push
    yield* Effect.all([touched, reconcile], { concurrency: "unbounded", discard: true })
  })
