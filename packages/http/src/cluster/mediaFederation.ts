import { randomUUID } from "node:crypto"
import type { SpaceId } from "@spaces/domain"
import {
  type MediaPlaneService,
  type PipeOffer,
  type ProducerInfo,
  type RoomEvent,
  UnknownProducer
} from "@spaces/media"
import { Deferred, Effect, Either, PubSub, Queue, Schedule, Schema, type Scope, Stream } from "effect"
import type { types } from "mediasoup"
import { brokerAttempt } from "./brokerCalls.js"
import type { EphemeralBusShape } from "./EphemeralBus.js"
import { forEachLiveSpace, type LiveSpacesAtStart } from "./liveSpaces.js"
import { connectRedis, KEY_PREFIX } from "./redisBus.js"
import {
  TrackEvent,
  decodeTrack,
  decodeDirectory,
  encodeDirectory,
  PipeRequest,
  PipeReply,
  PipeClose,
  toEnd
} from "./federationMessages.js"

/** How long an edge waits for the origin's answer. */
const PIPE_TIMEOUT = "5 seconds"

export interface MediaFederation {
  /** The media plane as the routes see it: the Space's producers on any node, consumed here. */
  readonly plane: MediaPlaneService
  /** Track events of producers whose origin is another node, for this node's room streams. */
  readonly remoteTracks: Effect.Effect<Queue.Dequeue<RoomEvent>, never, Scope.Scope>
}

/**
 * One Space's audio across nodes (see `plane/nodePipes.ts` for the media side). Each node keeps a
 * directory of the producers it is the origin of in Redis (`spaces:producers:<spaceId>`: producer
 * id → node, speaker, paused) and tells the other nodes of its track events on the ephemeral
 * plane. A listener's consume of a producer whose origin is another node first gets this node an
 * edge pipe from that origin (asked over the broker, once per producer however many listeners ask
 * at once), then consumes it here. An edge pipe nobody consumes for two sweeps is closed, and its
 * origin told; an origin closes pipes to nodes whose heartbeat lapsed.
 */
export const makeMediaFederation = (
  local: MediaPlaneService,
  bus: EphemeralBusShape,
  redisUrl: string,
  startup: LiveSpacesAtStart
): Effect.Effect<MediaFederation, never, Scope.Scope> =>
  Effect.gen(function* () {
    const node = bus.node
    const redis = yield* connectRedis(redisUrl, `spaces-media-${node}`)
    const directoryKey = (spaceId: SpaceId) => `${KEY_PREFIX}producers:${spaceId}`
    const aliveKey = (n: string) => `${KEY_PREFIX}node:${n}`
    const attempt = brokerAttempt("media federation", "cluster.media_failed")

    // --- the origin's side: its producers in the directory, its track events to the others ---
    const publishTracks = (spaceId: SpaceId) =>
      Effect.gen(function* () {
        const mine = new Set<string>()
        const write = (info: ProducerInfo) =>
          attempt(
            "directory",
            () =>
              redis.hset(
                directoryKey(spaceId),
                info.producerId,
                encodeDirectory({ node, userId: info.userId, paused: info.paused })
              ),
            0
          )
        const forgetAll = attempt(
          "directory",
          () => (mine.size === 0 ? Promise.resolve(0) : redis.hdel(directoryKey(spaceId), ...mine)),
          0
        ).pipe(Effect.zipRight(Effect.sync(() => mine.clear())))
        // Producers there before this run (a restart of the run after the room reopened).
        for (const info of yield* local.producers(spaceId)) {
          mine.add(info.producerId)
          yield* write(info)
        }
        yield* local.events(spaceId).pipe(
          Stream.runForEach((event) =>
            Effect.gen(function* () {
              switch (event._tag) {
                case "NewProducer":
                case "ProducerPaused":
                case "ProducerResumed": {
                  mine.add(event.producerId)
                  const paused = event._tag === "NewProducer" ? event.paused : event._tag === "ProducerPaused"
                  yield* write({ producerId: event.producerId, userId: event.userId, paused })
                  break
                }
                case "ProducerClosed":
                  mine.delete(event.producerId)
                  yield* attempt("directory", () => redis.hdel(directoryKey(spaceId), event.producerId), 0)
                  break
                default:
                  return
              }
              yield* bus.publish("tracks", Schema.encodeSync(TrackEvent)(event))
            })
          ),
          Effect.ensuring(forgetAll)
        )
      })
    yield* Effect.forkScoped(forEachLiveSpace(startup, publishTracks))

    // The other nodes' track events, for this node's room streams; a closed producer closes its edge here.
    const tracks = yield* Effect.acquireRelease(PubSub.sliding<RoomEvent>(4096), PubSub.shutdown)
    const remoteTracks = yield* bus.subscribe("tracks")
    /** Edge pipes of this node: producer id → the pipe and its origin. */
    const edges = new Map<
      string,
      { pipeId: string; origin: string; originPipeId: string; spaceId: SpaceId }
    >()
    const closeEdge = (producerId: string, tellOrigin: boolean) =>
      Effect.gen(function* () {
        const edge = edges.get(producerId)
        if (edge === undefined) return
        edges.delete(producerId)
        yield* local.closeEdgePipe(edge.pipeId)
        if (tellOrigin) yield* bus.publish(`pipe-close:${edge.origin}`, { pipeId: edge.originPipeId })
        yield* Effect.logInfo("media federation: edge pipe closed").pipe(
          Effect.annotateLogs({
            event: "cluster.edge_closed",
            spaceId: edge.spaceId,
            producerId,
            origin: edge.origin
          })
        )
      })
    yield* Queue.take(remoteTracks).pipe(
      Effect.flatMap((payload) => {
        const decoded = decodeTrack(payload)
        if (Either.isLeft(decoded)) return Effect.void
        const event: TrackEvent = decoded.right
        return PubSub.publish(tracks, event).pipe(
          Effect.zipRight(event._tag === "ProducerClosed" ? closeEdge(event.producerId, false) : Effect.void)
        )
      }),
      Effect.forever,
      Effect.forkScoped
    )

    // --- the origin answers edges' pipe requests ---
    /** Pipes out of this node: pipe id → the edge node it feeds (closed if that node dies). */
    const outs = new Map<string, string>()
    const requests = yield* bus.subscribe(`pipe-open:${node}`)
    yield* Queue.take(requests).pipe(
      Effect.flatMap((payload) =>
        Effect.gen(function* () {
          const decoded = Schema.decodeUnknownEither(PipeRequest)(payload)
          if (Either.isLeft(decoded)) return
          const request = decoded.right
          const offered = yield* Effect.either(
            local.pipeOut(request.spaceId, request.producerId, toEnd(request.edge))
          )
          if (Either.isRight(offered)) outs.set(offered.right.pipeId, request.from)
          yield* bus.publish(
            `pipe-reply:${request.from}`,
            Either.isRight(offered)
              ? { requestId: request.requestId, offer: offered.right }
              : { requestId: request.requestId, error: offered.left._tag }
          )
          if (Either.isRight(offered))
            yield* Effect.logInfo("media federation: pipe out to an edge").pipe(
              Effect.annotateLogs({
                event: "cluster.pipe_out",
                spaceId: request.spaceId,
                producerId: request.producerId,
                edge: request.from
              })
            )
        })
      ),
      Effect.forever,
      Effect.forkScoped
    )
    const closes = yield* bus.subscribe(`pipe-close:${node}`)
    yield* Queue.take(closes).pipe(
      Effect.flatMap((payload) => {
        const decoded = Schema.decodeUnknownEither(PipeClose)(payload)
        if (Either.isLeft(decoded)) return Effect.void
        outs.delete(decoded.right.pipeId)
        return local.closePipeOut(decoded.right.pipeId)
      }),
      Effect.forever,
      Effect.forkScoped
    )

    // --- the edge asks an origin for a pipe ---
    const waiting = new Map<string, Deferred.Deferred<typeof PipeReply.Type>>()
    const replies = yield* bus.subscribe(`pipe-reply:${node}`)
    yield* Queue.take(replies).pipe(
      Effect.flatMap((payload) => {
        const decoded = Schema.decodeUnknownEither(PipeReply)(payload)
        if (Either.isLeft(decoded)) return Effect.void
        const waiter = waiting.get(decoded.right.requestId)
        return waiter === undefined ? Effect.void : Deferred.succeed(waiter, decoded.right)
      }),
      Effect.forever,
      Effect.forkScoped
    )

    /** Where a producer's origin is, if it is a live node other than this one. */
    const originOf = (spaceId: SpaceId, producerId: string) =>
      Effect.gen(function* () {
        const raw = yield* attempt("directory", () => redis.hget(directoryKey(spaceId), producerId), null)
        if (raw === null) return undefined
        const entry = decodeDirectory(raw)
        if (Either.isLeft(entry) || entry.right.node === node) return undefined
        const alive = yield* attempt("alive", () => redis.exists(aliveKey(entry.right.node)), 0)
        return alive > 0 ? entry.right : undefined
      })

    /** An edge pipe for the producer, made once however many listeners ask for it at the same time. */
    const pending = new Map<string, Deferred.Deferred<boolean>>()
    const ensureEdge = (spaceId: SpaceId, producerId: string, origin: string) =>
      Effect.gen(function* () {
        if (edges.has(producerId)) return true
        const inFlight = pending.get(producerId)
        if (inFlight !== undefined) return yield* Deferred.await(inFlight)
        const done = yield* Deferred.make<boolean>()
        pending.set(producerId, done)
        const made = yield* Effect.gen(function* () {
          const end = yield* local.openEdgePipe(spaceId)
          const requestId = randomUUID()
          const reply = yield* Deferred.make<typeof PipeReply.Type>()
          waiting.set(requestId, reply)
          yield* bus.publish(`pipe-open:${origin}`, {
            requestId,
            from: node,
            spaceId,
            producerId,
            edge: { ip: end.ip, port: end.port, srtpParameters: end.srtpParameters }
          })
          const answer = yield* Deferred.await(reply).pipe(
            Effect.timeout(PIPE_TIMEOUT),
            Effect.ensuring(Effect.sync(() => waiting.delete(requestId)))
          )
          if (answer.offer === undefined) {
            yield* local.closeEdgePipe(end.pipeId)
            return false
          }
          const offer: PipeOffer = {
            ...toEnd(answer.offer),
            pipeId: answer.offer.pipeId,
            producerId: answer.offer.producerId,
            userId: answer.offer.userId,
            rtpParameters: answer.offer.rtpParameters as unknown as types.RtpParameters,
            paused: answer.offer.paused
          }
          yield* local
            .completeEdgePipe(spaceId, end.pipeId, offer)
            .pipe(Effect.tapError(() => bus.publish(`pipe-close:${origin}`, { pipeId: offer.pipeId })))
          edges.set(producerId, { pipeId: end.pipeId, origin, originPipeId: offer.pipeId, spaceId })
          yield* Effect.logInfo("media federation: edge pipe opened").pipe(
            Effect.annotateLogs({ event: "cluster.edge_opened", spaceId, producerId, origin })
          )
          return true
        }).pipe(
          Effect.catchAll((error) =>
            Effect.as(
              Effect.logWarning("media federation: no edge pipe").pipe(
                Effect.annotateLogs({
                  event: "cluster.edge_failed",
                  spaceId,
                  producerId,
                  origin,
                  error: String(error)
                })
              ),
              false
            )
          ),
          Effect.ensuring(Effect.sync(() => pending.delete(producerId)))
        )
        yield* Deferred.succeed(done, made)
        return made
      })

    // Idle edges close (nobody here consumes them for two sweeps); pipes out to dead nodes close.
    const idle = new Set<string>()
    const sweep = Effect.gen(function* () {
      for (const info of yield* local.edgePipes) {
        if (info.producerId === undefined) continue
        if (info.consumers > 0) {
          idle.delete(info.pipeId)
          continue
        }
        if (!idle.has(info.pipeId)) {
          idle.add(info.pipeId)
          continue
        }
        idle.delete(info.pipeId)
        yield* closeEdge(info.producerId, true)
      }
      for (const [pipeId, edgeNode] of [...outs]) {
        const alive = yield* attempt("alive", () => redis.exists(aliveKey(edgeNode)), 1)
        if (alive > 0) continue
        outs.delete(pipeId)
        yield* local.closePipeOut(pipeId)
      }
    })
    yield* sweep.pipe(Effect.repeat(Schedule.spaced("1 second")), Effect.forkScoped)

    /** The Space's producers on every live node (this node's first). */
    const producersEverywhere = (spaceId: SpaceId, here: ReadonlyArray<ProducerInfo>) =>
      Effect.gen(function* () {
        const all = yield* attempt(
          "directory",
          () => redis.hgetall(directoryKey(spaceId)),
          {} as Record<string, string>
        )
        const seen = new Set(here.map((p) => p.producerId))
        const others: Array<ProducerInfo> = []
        const nodes = new Map<string, boolean>()
        for (const [producerId, raw] of Object.entries(all)) {
          const entry = decodeDirectory(raw)
          if (seen.has(producerId) || Either.isLeft(entry) || entry.right.node === node) continue
          const n = entry.right.node
          if (!nodes.has(n)) nodes.set(n, (yield* attempt("alive", () => redis.exists(aliveKey(n)), 0)) > 0)
          if (nodes.get(n))
            others.push({ producerId, userId: entry.right.userId, paused: entry.right.paused })
        }
        return [...here, ...others]
      })

    const plane: MediaPlaneService = {
      ...local,
      producers: (spaceId) =>
        Effect.flatMap(local.producers(spaceId), (here) => producersEverywhere(spaceId, here)),
      producersFor: (caller) =>
        Effect.flatMap(local.producersFor(caller), (here) => producersEverywhere(caller.spaceId, here)),
      consume: (caller, transportId, producerId, rtpCapabilities) =>
        Effect.gen(function* () {
          const here =
            (yield* local.producers(caller.spaceId)).some((p) => p.producerId === producerId) ||
            edges.has(producerId)
          if (!here) {
            const origin = yield* originOf(caller.spaceId, producerId)
            if (origin === undefined)
              return yield* new UnknownProducer({ spaceId: caller.spaceId, producerId })
            yield* ensureEdge(caller.spaceId, producerId, origin.node)
          }
          return yield* local.consume(caller, transportId, producerId, rtpCapabilities)
        })
    }
    return { plane, remoteTracks: PubSub.subscribe(tracks) }
  })
