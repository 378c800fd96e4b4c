/**
 * The room's audio through mediasoup-client: receive every speaker's track, and publish the
 * microphone while the domain says we're on stage and unmuted. The server decides who may speak
 * and who is muted; this module only follows the room view and the media events it is given.
 */
import { Device, type types } from "mediasoup-client"
import * as api from "./api.js"
import { type MicOrder, Microphone, type OutboundAudio } from "./microphone.js"

/** What a test (or a curious user in devtools) can read: the inbound audio per speaker. */
export interface InboundAudio {
  readonly userId: string
  readonly producerId: string
  readonly packetsReceived: number
  readonly audioLevel: number
  readonly totalAudioEnergy: number
}

export interface MediaProbe {
  readonly inbound: () => Promise<ReadonlyArray<InboundAudio>>
  /** Our own audio as sent (null: no producer). */
  readonly outbound: () => Promise<OutboundAudio | null>
  readonly publishing: () => boolean
}

declare global {
  // The page's one test hook: read-only statistics, no control.
  var spacesMedia: MediaProbe | undefined
}

/** When to look again for tracks the live stream may have missed (ms after start). */
const CATCH_UP_MS = [1500, 4000]

interface Received {
  readonly consumer: types.Consumer
  readonly userId: string
  readonly audio: HTMLAudioElement
}

export class RoomMedia {
  private device: Device | null = null
  private recv: types.Transport | null = null
  private readonly mic = new Microphone({
    canProduce: () => this.device?.canProduce("audio") ?? false,
    openTransport: () => this.transport("send"),
    closeTransport: (send) => api.closeTransport(this.spaceId, send.id)
  })
  /** The latest order from the room view; each queued step follows the newest, not its own. */
  private micOrder: MicOrder = { onStage: false, muted: true }
  private readonly received = new Map<string, Received>()
  private readonly pending = new Set<string>()
  private closed = false
  private chain: Promise<void> = Promise.resolve()

  constructor(
    private readonly spaceId: string,
    private readonly me: string,
    /** Where the <audio> elements live (hidden; the browser needs them to play). */
    private readonly sink: HTMLElement,
    private readonly onError: (message: string) => void
  ) {
    globalThis.spacesMedia = {
      inbound: () => this.inbound(),
      outbound: () => this.mic.outbound(),
      publishing: () => this.mic.publishing
    }
  }

  /** Operations run one at a time: the transports are created once, in order. */
  private serial(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((error: unknown) => {
      if (!this.closed) this.onError(error instanceof Error ? error.message : String(error))
    })
    return this.chain
  }

  /** Loads the device, opens the receive transport and consumes the speakers already there. */
  start(): Promise<void> {
    return this.serial(async () => {
      const device = new Device()
      await device.load({ routerRtpCapabilities: await this.capabilities() })
      this.device = device
      if (this.closed) return
      const recv = await this.transport("recv")
      // Closed while the transport was being made (the page navigated away): nothing may play
      // through it, and the server's end of it goes too.
      if (this.closed) {
        recv.close()
        await api.closeTransport(this.spaceId, recv.id).catch(() => undefined)
        return
      }
      this.recv = recv
      for (const p of await api.producers(this.spaceId)) if (p.userId !== this.me) await this.consumeNow(p)
      for (const delay of CATCH_UP_MS) setTimeout(() => void this.catchUp(), delay)
    })
  }

  /**
   * The room's live stream joins a room a moment after it opens (on start, and when it reopens
   * after a media server died): tracks published in that moment are picked up from the list.
   */
  private catchUp(): Promise<void> {
    if (this.closed) return Promise.resolve()
    return this.serial(async () => {
      const current = await api.producers(this.spaceId).catch(() => [])
      // Best effort: a track that closed meanwhile is simply not there.
      for (const p of current)
        if (p.userId !== this.me && !this.closed) await this.consumeNow(p).catch(() => undefined)
    })
  }

  /** A speaker's track appeared (a `NewProducer` room event). */
  consume(producer: { readonly producerId: string; readonly userId: string }): Promise<void> {
    if (producer.userId === this.me) return Promise.resolve()
    return this.serial(() => this.consumeNow(producer))
  }

  /** A speaker's track went away (`ProducerClosed`). */
  dropProducer(producerId: string): void {
    const entry = this.received.get(producerId)
    if (entry === undefined) return
    entry.consumer.close()
    entry.audio.remove()
    this.received.delete(producerId)
  }

  /**
   * Follow the room view: the microphone is open while we're on stage and unmuted, paused and
   * released while muted (by ourselves, a host or mute-all), closed back in the audience.
   */
  follow(order: MicOrder): Promise<void> {
    this.micOrder = order
    return this.serial(async () => {
      if (this.device !== null && !this.closed) await this.mic.follow(this.micOrder)
    })
  }

  close(): void {
    this.closed = true
    this.mic.close()
    this.recv?.close()
    for (const entry of this.received.values()) entry.audio.remove()
    this.received.clear()
    if (globalThis.spacesMedia !== undefined) globalThis.spacesMedia = undefined
  }

  /**
   * The media room opens when the media plane has followed the log to the Space's start, a moment
   * after the room view says live: "room not open" is retried for a while, not reported.
   */
  private async capabilities(): Promise<types.RtpCapabilities> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await api.rtpCapabilities(this.spaceId)
      } catch (error) {
        const notYet = error instanceof api.ApiError && error.kind === "media-room-not-open"
        if (!notYet || attempt >= 40 || this.closed) throw error
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  }

  private async transport(direction: "send" | "recv"): Promise<types.Transport> {
    const device = this.device
    if (device === null) throw new Error("media device not loaded")
    const info = await api.createTransport(this.spaceId, direction)
    const options = {
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters
    }
    const transport =
      direction === "send" ? device.createSendTransport(options) : device.createRecvTransport(options)
    transport.on("connect", ({ dtlsParameters }, callback, errback) => {
      api.connectTransport(this.spaceId, info.transportId, dtlsParameters).then(() => callback(), errback)
    })
    if (direction === "send")
      transport.on("produce", ({ rtpParameters }, callback, errback) => {
        api
          .produce(this.spaceId, info.transportId, rtpParameters)
          .then(({ producerId }) => callback({ id: producerId }), errback)
      })
    return transport
  }

  private async consumeNow(producer: {
    readonly producerId: string
    readonly userId: string
  }): Promise<void> {
    const { recv, device } = this
    if (recv === null || device === null || this.received.has(producer.producerId)) return
    if (this.pending.has(producer.producerId)) return
    this.pending.add(producer.producerId)
    try {
      const info = await api.consume(this.spaceId, recv.id, producer.producerId, device.rtpCapabilities)
      const consumer = await recv.consume({
        id: info.consumerId,
        producerId: info.producerId,
        kind: info.kind,
        rtpParameters: info.rtpParameters
      })
      const audio = document.createElement("audio")
      audio.autoplay = true
      audio.srcObject = new MediaStream([consumer.track])
      audio.dataset.user = producer.userId
      this.sink.append(audio)
      this.received.set(producer.producerId, { consumer, userId: producer.userId, audio })
      await api.resumeConsumer(this.spaceId, info.consumerId)
      // Autoplay may wait for a gesture; the room's buttons give it one.
      audio.play().catch(() => undefined)
    } finally {
      this.pending.delete(producer.producerId)
    }
  }

  private async inbound(): Promise<ReadonlyArray<InboundAudio>> {
    const result: Array<InboundAudio> = []
    for (const [producerId, entry] of this.received) {
      const report = await entry.consumer.getStats()
      report.forEach((stat: { type?: string; kind?: string } & Record<string, unknown>) => {
        if (stat.type !== "inbound-rtp" || stat.kind !== "audio") return
        result.push({
          userId: entry.userId,
          producerId,
          packetsReceived: Number(stat.packetsReceived ?? 0),
          audioLevel: Number(stat.audioLevel ?? 0),
          totalAudioEnergy: Number(stat.totalAudioEnergy ?? 0)
        })
      })
    }
    return result
  }
}
