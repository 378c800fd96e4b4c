import type { SpaceId, UserId } from "@spaces/domain"
import { Deferred, Effect, PubSub } from "effect"
import type { types } from "mediasoup"
import type { RoomEvent, SpeakingSignal } from "../signals.js"
import type { Direction, ProducerInfo, RoomStats } from "../signalling.js"
import type { Placed, PooledWorker } from "../workers/workerPool.js"

/** One router of a room; the first (origin) holds the speakers' producers, the others pipe them. */
export class RouterSlot implements Placed {
  recvTransports = 0
  consumers = 0
  /** Transports that went down with this slot's router (its worker died), by user, to tell them. */
  readonly lost = new Map<UserId, Array<string>>()
  constructor(
    readonly router: types.Router,
    readonly pooled: PooledWorker,
    private readonly producerCount: () => number
  ) {}

  /** Estimated consumers: known listeners × tracks, so placement is decided when a listener connects. */
  load(): number {
    return Math.max(this.consumers, this.recvTransports * Math.max(1, this.producerCount()))
  }
}

interface TransportCommon {
  readonly userId: UserId
  readonly direction: Direction
  readonly slot: RouterSlot
}

/** How often a connected WebRTC transport's received bytes are read, and how long they may stand still. */
const PEER_CHECK_MS = 5_000
const PEER_SILENCE_MS = 20_000

export type TransportEntry =
  | (TransportCommon & { readonly kind: "webrtc"; readonly transport: types.WebRtcTransport })
  | (TransportCommon & { readonly kind: "plain"; readonly transport: types.PlainTransport })

export interface ProducerEntry {
  readonly producer: types.Producer
  readonly userId: UserId
  readonly transportId: string
  /**
   * Piped in from the speaker's origin node (several nodes, `plane/nodePipes.ts`): consumed here
   * like any producer, but its track events, listing, recording and captions are the origin's.
   */
  readonly piped?: true
}

export interface ConsumerEntry {
  readonly consumer: types.Consumer
  readonly userId: UserId
  readonly transportId: string
  readonly slot: RouterSlot
}

/**
 * The media state of one live Space (mediasoup-demo's Room, driven by domain orders). All
 * mutations are synchronous, so that closing takes effect at once, whatever is in flight.
 */
export class Room {
  readonly slots: Array<RouterSlot> = []
  readonly transports = new Map<string, TransportEntry>()
  readonly producers = new Map<string, ProducerEntry>()
  readonly consumers = new Map<string, ConsumerEntry>()
  /** Producers created on each open transport so far (capped per transport). */
  private readonly produced = new Map<string, number>()
  closed = false

  constructor(
    readonly spaceId: SpaceId,
    origin: types.Router,
    originWorker: PooledWorker,
    readonly events: PubSub.PubSub<RoomEvent>,
    readonly speaking: PubSub.PubSub<SpeakingSignal>,
    readonly closedSignal: Deferred.Deferred<void>,
    /** Serialises placement and producing, which create routers and pipes asynchronously. */
    readonly lock: Effect.Semaphore
  ) {
    this.addSlot(origin, originWorker)
  }

  get origin(): RouterSlot {
    return this.slots[0]!
  }

  addSlot(router: types.Router, pooled: PooledWorker): RouterSlot {
    const slot = new RouterSlot(router, pooled, () => this.producers.size)
    this.slots.push(slot)
    pooled.placed.add(slot)
    router.observer.once("close", () => this.slotLost(slot))
    return slot
  }

  /**
   * A listeners' router closed under a live room (its worker died): the room goes on without it,
   * and the users whose transports were there are told to reconnect. Losing the origin router is
   * the owner's business (the whole room moves).
   */
  private slotLost(slot: RouterSlot): void {
    slot.pooled.placed.delete(slot)
    if (this.closed || slot === this.origin) return
    this.slots.splice(this.slots.indexOf(slot), 1)
    for (const [userId, transportIds] of slot.lost)
      this.publish({ _tag: "TransportsClosed", spaceId: this.spaceId, userId, transportIds })
    slot.lost.clear()
  }

  publish(event: RoomEvent): void {
    Effect.runSync(PubSub.publish(this.events, event))
  }

  signal(signal: SpeakingSignal): void {
    Effect.runSync(PubSub.publish(this.speaking, signal))
  }

  producerOf(userId: UserId): ProducerEntry | undefined {
    for (const entry of this.producers.values()) if (entry.userId === userId && !entry.piped) return entry
    return undefined
  }

  /** The producer of `userId` piped in from its origin node, if this node is an edge for it. */
  pipedOf(userId: UserId): ProducerEntry | undefined {
    for (const entry of this.producers.values()) if (entry.userId === userId && entry.piped) return entry
    return undefined
  }

  /** Open transports of a user in this room. */
  transportsOf(userId: UserId): number {
    let count = 0
    for (const entry of this.transports.values()) if (entry.userId === userId) count++
    return count
  }

  /** Open consumers of a user in this room. */
  consumersOf(userId: UserId): number {
    let count = 0
    for (const entry of this.consumers.values()) if (entry.userId === userId) count++
    return count
  }

  producedOn(transportId: string): number {
    return this.produced.get(transportId) ?? 0
  }

  countProduced(transportId: string): void {
    this.produced.set(transportId, this.producedOn(transportId) + 1)
  }

  producerInfos(): ReadonlyArray<ProducerInfo> {
    return [...this.producers.values()]
      .filter((entry) => !entry.piped)
      .map(({ producer, userId }) => ({
        producerId: producer.id,
        userId,
        paused: producer.paused
      }))
  }

  /** Registers a transport and keeps the books when mediasoup closes it (router or worker close). */
  addTransport(entry: TransportEntry): void {
    this.transports.set(entry.transport.id, entry)
    if (entry.direction === "recv") entry.slot.recvTransports++
    const transport: types.Transport = entry.transport
    transport.observer.once("close", () => this.forgetTransport(transport.id))
    if (entry.kind === "webrtc") this.watchPeer(entry.transport, entry.userId)
  }

  /**
   * A WebRTC transport whose peer is gone is closed (`TransportLost`), so presence doesn't count a
   * dead tab as connected. Gone: the DTLS handshake failed, or nothing at all arrived for
   * `PEER_SILENCE_MS` while connected (a live browser sends ICE consent checks every few seconds,
   * RTCP besides; a closed tab or a dropped line sends nothing). A DTLS close (a page closing its
   * transport) is left to the client's own DELETE, or to the silence. mediasoup 3.12 has no ICE
   * consent timeout of its own.
   */
  private watchPeer(transport: types.WebRtcTransport, userId: UserId): void {
    const hangUp = () => {
      if (transport.closed || this.closed) return
      transport.close()
      this.publish({ _tag: "TransportLost", spaceId: this.spaceId, userId, transportId: transport.id })
    }
    transport.on("dtlsstatechange", (state) => {
      if (state === "failed") hangUp()
    })
    let received = -1
    let heardAt = Date.now()
    const timer = setInterval(() => {
      if (transport.closed) return clearInterval(timer)
      void transport.getStats().then(
        (stats) => {
          const bytes = stats[0]?.bytesReceived ?? 0
          const now = Date.now()
          if (bytes !== received || transport.dtlsState !== "connected") {
            received = bytes
            heardAt = now
          } else if (now - heardAt >= PEER_SILENCE_MS) hangUp()
        },
        () => undefined
      )
    }, PEER_CHECK_MS)
    timer.unref()
    transport.observer.once("close", () => clearInterval(timer))
  }

  private forgetTransport(transportId: string): void {
    const entry = this.transports.get(transportId)
    if (entry === undefined) return
    this.transports.delete(transportId)
    this.produced.delete(transportId)
    if (entry.direction === "recv") entry.slot.recvTransports--
    // mediasoup closes a router's transports before the router's own close event.
    if (entry.slot.router.closed && !this.closed) {
      const lost = entry.slot.lost.get(entry.userId) ?? []
      lost.push(transportId)
      entry.slot.lost.set(entry.userId, lost)
    }
  }

  addProducer(entry: ProducerEntry): void {
    this.producers.set(entry.producer.id, entry)
    entry.producer.observer.once("close", () => {
      // The worker tells consumers asynchronously; closing them here keeps the books exact at once.
      for (const consumer of this.consumers.values()) {
        if (consumer.consumer.producerId === entry.producer.id) consumer.consumer.close()
      }
      if (this.producers.delete(entry.producer.id) && !this.closed && entry.piped === undefined) {
        this.publish({
          _tag: "ProducerClosed",
          spaceId: this.spaceId,
          userId: entry.userId,
          producerId: entry.producer.id
        })
      }
    })
  }

  addConsumer(entry: ConsumerEntry): void {
    this.consumers.set(entry.consumer.id, entry)
    entry.slot.consumers++
    entry.consumer.observer.once("close", () => {
      if (this.consumers.delete(entry.consumer.id)) entry.slot.consumers--
    })
  }

  /** Pauses or resumes a user's producer (as it is when run, not when the effect is built). */
  setMuted(userId: UserId, muted: boolean): Effect.Effect<void> {
    return Effect.suspend(() => {
      // An edge follows the order too (the origin's pipe already stopped sending): quietly, since
      // the track events are the origin's.
      const piped = this.pipedOf(userId)?.producer
      if (piped !== undefined && !piped.closed && piped.paused !== muted)
        void (muted ? piped.pause() : piped.resume()).catch(() => undefined)
      const entry = this.producerOf(userId)
      if (entry === undefined || entry.producer.closed || entry.producer.paused === muted) return Effect.void
      const { producer } = entry
      // mediasoup marks the producer paused once the worker has answered.
      return Effect.promise(() => (muted ? producer.pause() : producer.resume()).catch(() => undefined)).pipe(
        Effect.zipRight(
          Effect.sync(() =>
            this.publish({
              _tag: muted ? "ProducerPaused" : "ProducerResumed",
              spaceId: this.spaceId,
              userId,
              producerId: producer.id
            })
          )
        )
      )
    })
  }

  /** Closes a user's producer and send transports (speaker rights revoked). */
  revokeSpeaker(userId: UserId): void {
    this.producerOf(userId)?.producer.close()
    this.pipedOf(userId)?.producer.close()
    this.closeTransportsOf(userId, (entry) => entry.direction === "send")
  }

  /** Closes every transport of a user (and so their producer and consumers). */
  closeTransportsOf(userId: UserId, which: (entry: TransportEntry) => boolean = () => true): void {
    const closing = [...this.transports.values()].filter((entry) => entry.userId === userId && which(entry))
    for (const entry of closing) entry.transport.close()
    if (closing.length > 0) {
      this.publish({
        _tag: "TransportsClosed",
        spaceId: this.spaceId,
        userId,
        transportIds: closing.map((entry) => entry.transport.id)
      })
    }
  }

  /**
   * Closes every router (and with them every transport, producer, consumer and pipe). The last
   * event says why: the Space ended (`RoomClosed`), or its media moves to a new room (`MediaRestarted`).
   */
  close(last: "RoomClosed" | "MediaRestarted" = "RoomClosed"): void {
    if (this.closed) return
    this.closed = true
    for (const slot of this.slots) {
      slot.router.close()
      slot.pooled.placed.delete(slot)
    }
    this.publish({ _tag: last, spaceId: this.spaceId })
    Effect.runSync(Deferred.succeed(this.closedSignal, undefined))
  }

  stats(): Omit<RoomStats, "recordedSamples"> {
    return {
      routers: this.slots.map((slot) => ({
        routerId: slot.router.id,
        workerPid: slot.pooled.worker.pid,
        recvTransports: slot.recvTransports,
        consumers: slot.consumers
      })),
      producers: this.producers.size
    }
  }
}
