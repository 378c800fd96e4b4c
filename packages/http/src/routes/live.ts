import {
  EventStore,
  type EventStoreShape,
  type RecordedEvent,
  SpaceId,
  SpaceNotFound,
  Spaces,
  spaceStream,
  type UserId
} from "@spaces/domain"
import type { MediaPlaneService } from "@spaces/media"
import { DEFAULT_FEED_LIMIT, feedChanged, ReadModels } from "@spaces/projections"
import { Chunk, Effect, Queue, Schedule, Schema, Stream } from "effect"
import { type App, runWith } from "../app/context.js"
import { lastEventId, type SseWriter } from "../sse/sse.js"
import { addLiveRoute, pushOnChange } from "./liveRoute.js"
import type { Routes } from "./registry.js"

const toWire = (r: RecordedEvent) => ({
  position: r.position,
  revision: r.revision,
  type: r.type,
  data: r.data,
  recordedAt: r.metadata.recordedAt
})

/** Where a client that can't set Last-Event-ID (EventSource, a first open) starts the stream. */
const LiveQuery = Schema.Struct({
  after: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, Number.MAX_SAFE_INTEGER)).annotations({
      description:
        "Start after this log position (the room view's `position`): only later events are sent. " +
        "Same as Last-Event-ID, which wins when both are given"
    })
  )
})

/** Past this many events of the whole log since the start point, reading the Space's stream is cheaper. */
const SCAN_LIMIT = 10_000

/**
 * The Space's events after `from`. From a recent position (the room view's, a reconnect) the log's
 * tail since then is short, so the Space's whole history is not read; from 0, or a position so old
 * that the log has moved on by more than `SCAN_LIMIT`, the Space's own stream is read instead.
 */
const pastOf = (store: EventStoreShape, stream: string, from: number) =>
  from === 0
    ? store.readStream(stream)
    : store.readAll(from).pipe(
        Stream.take(SCAN_LIMIT + 1),
        Stream.runCollect,
        Effect.flatMap((tail) =>
          tail.length > SCAN_LIMIT
            ? store.readStream(stream)
            : Effect.succeed(Chunk.toReadonlyArray(Chunk.filter(tail, (r) => r.streamId === stream)))
        )
      )

/** Media signals of the room while it is open; waits and tries again while it is not (yet) open. */
const mediaSignals = (plane: MediaPlaneService, spaceId: SpaceId, me: UserId, w: SseWriter) =>
  Effect.all(
    [
      plane.speaking(spaceId).pipe(Stream.runForEach((signal) => w.send("speaking", signal))),
      plane.events(spaceId).pipe(
        // Lost transports are presence's business; closed ones only their user's.
        Stream.filter(
          (e) => e._tag !== "TransportLost" && (e._tag !== "TransportsClosed" || e.userId === me)
        ),
        Stream.runForEach((event) => w.send("media", event))
      )
    ],
    { concurrency: "unbounded", discard: true }
  ).pipe(Effect.ignore, Effect.repeat(Schedule.spaced("1 second")), Effect.asVoid)

export const mountLive = (app: App, routes: Routes) => {
  const run = runWith(app)
  addLiveRoute(
    app,
    routes,
    "room",
    {
      path: "/v1/spaces/:spaceId/live",
      summary:
        "Server-Sent Events: the room's events from the log (id = global position), reactions, partial " +
        "captions (`caption`: speaker, text, startMs, while a phrase is spoken), speaking " +
        "indicators and media track events. Without a start point the Space's whole past is sent first; " +
        "start after the room view's `position` with `?after=` (EventSource) or Last-Event-ID (wins if " +
        "both are given; EventSource sends it itself when it reconnects). At most SPACES_LIVE_REPLAY_MAX past events per " +
        "connection: after them a `more` event ({ after }) ends the stream, and reconnecting from there " +
        "(Last-Event-ID) sends the next page",
      query: LiveQuery,
      params: { spaceId: SpaceId },
      problems: [404]
    },
    async ({ who: me, params: { spaceId }, query: { after } }, req) => {
      const state = await run(Effect.flatMap(Spaces, (s) => s.space(spaceId)))
      if (state.status === "none") throw new SpaceNotFound({ spaceId })
      const from = lastEventId(req) ?? after ?? 0
      const stream = spaceStream(spaceId)
      return (w) =>
        Effect.scoped(
          Effect.gen(function* () {
            // Holding the room's stream is being connected (presence), until the client goes away.
            yield* app.presence.holdStream(spaceId, me)
            // Subscribe before reading the stream so nothing committed in between is missed.
            const live = yield* app.hub.subscribe
            const reactions = yield* app.reactions.subscribe
            const partials = yield* app.captionPartials.subscribe
            const remoteSpeaking = yield* app.remoteSpeaking.subscribe
            const remoteTracks = yield* app.remoteTracks
            const store = yield* EventStore
            let last = from
            const past = (yield* pastOf(store, stream, from)).filter((r) => r.position > from)
            // At most `replayMax` past events per connection. A longer past goes a page at a time:
            // `more` ({ after }) ends the stream, and EventSource reconnects by itself with
            // Last-Event-ID (the cursor) for the next page.
            const replayMax = app.config.sse.replayMax
            for (const r of past.slice(0, replayMax)) {
              yield* w.send("space", toWire(r), r.position)
              last = r.position
            }
            if (past.length > replayMax) return yield* w.send("more", { after: last })
            const logPart = Stream.fromQueue(live).pipe(
              Stream.filter((r) => r.streamId === stream && r.position > last),
              Stream.runForEach((r) => {
                last = r.position
                return w.send("space", toWire(r), r.position)
              })
            )
            const ofThisRoom = <T extends { readonly spaceId: SpaceId }>(
              queue: Queue.Dequeue<T>,
              event: string
            ) =>
              Queue.take(queue).pipe(
                Effect.flatMap((item) => (item.spaceId === spaceId ? w.send(event, item) : Effect.void)),
                Effect.forever
              )
            const mediaPart = app.media.available
              ? mediaSignals(app.media.plane, spaceId, me, w)
              : Effect.void
            yield* Effect.all(
              [
                logPart,
                ofThisRoom(reactions, "reaction"),
                ofThisRoom(partials, "caption"),
                ofThisRoom(remoteSpeaking, "speaking"),
                // Tracks whose origin is another node: consumed here through an edge pipe.
                ofThisRoom(remoteTracks, "media"),
                mediaPart
              ],
              { concurrency: "unbounded", discard: true }
            )
          })
        )
    }
  )

  addLiveRoute(
    app,
    routes,
    "feed",
    {
      path: "/v1/feed/live",
      summary:
        "Server-Sent Events: your live bar, re-sent whenever it changes (id = the views' log position)",
      problems: []
    },
    ({ who: user }) =>
      (w) =>
        Effect.gen(function* () {
          const models = yield* ReadModels
          let sent = ""
          // Every Space the feed lists, shown or below the cut: a change to one of them is ours.
          let listed: ReadonlySet<string> = new Set()
          const push = Effect.gen(function* () {
            const position = yield* models.positionOf("feed")
            const all = yield* models.feed(user, { limit: Number.MAX_SAFE_INTEGER })
            listed = new Set(all.map((entry) => entry.space.spaceId))
            const feed = all.slice(0, DEFAULT_FEED_LIMIT)
            const json = JSON.stringify(feed)
            if (json === sent) return
            sent = json
            yield* w.send("feed", feed, position)
          })
          yield* pushOnChange(push, (change) => Effect.succeed(feedChanged(change, user, listed)))
        })
  )
}
