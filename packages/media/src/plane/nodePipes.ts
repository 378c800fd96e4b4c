import type { SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { RoomNotOpen, UnknownProducer, UnknownTransport } from "../errors.js"
import type { MediaPlaneService } from "../mediaPlane.js"
import { nodePipeTransportOptions } from "../mediasoupOptions.js"
import type { Room } from "../room/room.js"
import type { RoomLifecycle } from "./lifecycle.js"
import { call, consumeOrClose } from "./mediasoupCalls.js"
import { pipeToAllSlots } from "./placement.js"

/** One end of a pipe between nodes: where its PipeTransport listens, and its SRTP keys. */
export interface PipeEnd {
  readonly ip: string
  readonly port: number
  readonly srtpParameters: types.SrtpParameters | undefined
}

/** The edge's end, made first: the origin connects to it. */
export interface EdgePipe extends PipeEnd {
  readonly pipeId: string
}

/** The origin's answer: its end, and the track it sends through the pipe. */
export interface PipeOffer extends PipeEnd {
  readonly pipeId: string
  readonly producerId: string
  readonly userId: UserId
  readonly rtpParameters: types.RtpParameters
  readonly paused: boolean
}

/** An edge pipe of this node and the listeners it feeds here. */
export interface EdgePipeInfo {
  readonly spaceId: SpaceId
  readonly pipeId: string
  /** The piped producer (the speaker's producer id on the origin), once the pipe is complete. */
  readonly producerId: string | undefined
  readonly consumers: number
}

export type NodePipes = Pick<
  MediaPlaneService,
  | "pipeOut"
  | "closePipeOut"
  | "openEdgePipe"
  | "completeEdgePipe"
  | "closeEdgePipe"
  | "edgePipes"
  | "pipeOuts"
>

const endOf = (transport: types.PipeTransport): PipeEnd => ({
  ip: transport.tuple.localIp,
  port: transport.tuple.localPort,
  srtpParameters: transport.srtpParameters
})

/**
 * One Space's audio across nodes. The node holding a speaker's producer is its origin; a node with
 * listeners of that Space is an edge: its room gets the speaker's track through a PipeTransport
 * pair between the two nodes' workers (SRTP, on the pipe address), made on demand:
 *
 * 1. the edge opens its end (`openEdgePipe`) and sends it to the origin;
 * 2. the origin (`pipeOut`) connects a PipeTransport to it and consumes the producer on it;
 * 3. the edge (`completeEdgePipe`) connects to the origin's end and produces the same track, with
 *    the same producer id, into its room, where its listeners consume it like a local one (and
 *    other routers of the room get it through pipeToRouter, as within one node).
 *
 * The origin's pipe consumer follows its producer: a mute (pause) stops the RTP to every edge, and
 * the producer's close closes the pipe. The edge closes its end when nobody consumes it any more
 * (the caller's policy, see `edgePipes`) and tells the origin (`closePipeOut`).
 */
export const makeNodePipes = (config: MediaConfig, lifecycle: RoomLifecycle): NodePipes => {
  const { roomOf } = lifecycle
  const outs = new Map<string, { readonly spaceId: SpaceId; readonly transport: types.PipeTransport }>()
  const edges = new Map<
    string,
    {
      readonly spaceId: SpaceId
      readonly room: Room
      readonly transport: types.PipeTransport
      producerId?: string
    }
  >()

  return {
    pipeOut: (spaceId, producerId, edge) =>
      Effect.gen(function* () {
        const { room } = yield* roomOf(spaceId)
        const entry = room.producers.get(producerId)
        // Only a producer whose origin is here is piped out (an edge never forwards a piped one).
        if (entry === undefined || entry.piped) return yield* new UnknownProducer({ spaceId, producerId })
        const transport = yield* call(room, () =>
          room.origin.router.createPipeTransport(nodePipeTransportOptions(config))
        )
        const consumer = yield* consumeOrClose(room, transport, spaceId, producerId, async () => {
          await transport.connect({
            ip: edge.ip,
            port: edge.port,
            ...(edge.srtpParameters === undefined ? {} : { srtpParameters: edge.srtpParameters })
          })
          return transport.consume({ producerId })
        })
        outs.set(transport.id, { spaceId, transport })
        transport.observer.once("close", () => outs.delete(transport.id))
        // The pipe lives as long as its producer (the speaker stopped, left or was removed).
        consumer.observer.once("close", () => transport.close())
        if (consumer.closed) transport.close()
        return {
          ...endOf(transport),
          pipeId: transport.id,
          producerId,
          userId: entry.userId,
          rtpParameters: consumer.rtpParameters,
          paused: entry.producer.paused
        } satisfies PipeOffer
      }),

    closePipeOut: (pipeId) =>
      Effect.sync(() => {
        outs.get(pipeId)?.transport.close()
      }),

    openEdgePipe: (spaceId) =>
      Effect.gen(function* () {
        const { room } = yield* roomOf(spaceId)
        const transport = yield* call(room, () =>
          room.origin.router.createPipeTransport(nodePipeTransportOptions(config))
        )
        edges.set(transport.id, { spaceId, room, transport })
        transport.observer.once("close", () => edges.delete(transport.id))
        return { ...endOf(transport), pipeId: transport.id } satisfies EdgePipe
      }),

    completeEdgePipe: (spaceId, pipeId, offer) =>
      Effect.gen(function* () {
        const edge = edges.get(pipeId)
        if (edge === undefined || edge.spaceId !== spaceId)
          return yield* new UnknownTransport({ spaceId, transportId: pipeId })
        const { room, transport } = edge
        if (room.closed) return yield* new RoomNotOpen({ spaceId })
        const producer = yield* call(room, async () => {
          await transport.connect({
            ip: offer.ip,
            port: offer.port,
            ...(offer.srtpParameters === undefined ? {} : { srtpParameters: offer.srtpParameters })
          })
          return transport.produce({
            id: offer.producerId,
            kind: "audio",
            rtpParameters: offer.rtpParameters,
            paused: offer.paused,
            appData: { userId: offer.userId, pipedFrom: offer.pipeId }
          })
        }).pipe(Effect.tapError(() => Effect.sync(() => transport.close())))
        if (room.closed || transport.closed) {
          producer.close()
          return yield* new RoomNotOpen({ spaceId })
        }
        edge.producerId = producer.id
        room.addProducer({ producer, userId: offer.userId, transportId: pipeId, piped: true })
        // The edge's other routers (other workers of this node) get it like a local producer.
        yield* pipeToAllSlots(room, producer.id)
      }),

    closeEdgePipe: (pipeId) =>
      Effect.sync(() => {
        edges.get(pipeId)?.transport.close()
      }),

    edgePipes: Effect.sync(() =>
      [...edges.entries()].map(([pipeId, edge]) => {
        let consumers = 0
        for (const c of edge.room.consumers.values())
          if (edge.producerId !== undefined && c.consumer.producerId === edge.producerId) consumers++
        return { spaceId: edge.spaceId, pipeId, producerId: edge.producerId, consumers }
      })
    ),

    pipeOuts: Effect.sync(() =>
      [...outs.entries()].map(([pipeId, out]) => ({ spaceId: out.spaceId, pipeId }))
    )
  }
}
