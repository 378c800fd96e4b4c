/**
 * Our microphone in the room, following the room view: captured and sent only while the room says
 * we're on stage and unmuted. The server stays the authority (it pauses our server-side producer
 * on a mute); this side makes a mute true in the browser too: no RTP leaves the page and the
 * capture device is released, so the browser's mic indicator goes off.
 *
 * Muting pauses the mediasoup-client producer and swaps its track for none (which stops the old
 * track); unmuting captures a fresh track into the same producer, so listeners keep their consumer
 * of it. The producer is created on the first unmute on stage, not on promotion: people start
 * muted, and a mic opened only to be closed again would flash the indicator for nothing.
 */
import type { types } from "mediasoup-client"

/** What the room view says about us: on stage (host, co-host, speaker) and muted or not. */
export interface MicOrder {
  readonly onStage: boolean
  readonly muted: boolean
}

/** What a test reads: our outbound audio as the producer's RTCRtpSender counts it. */
export interface OutboundAudio {
  readonly packetsSent: number
  readonly bytesSent: number
  /** The capture track is live (the browser's mic indicator is on). */
  readonly capturing: boolean
  readonly paused: boolean
}

/** What the microphone needs from the room's media: its send transport, opened and closed on demand. */
export interface SendSide {
  readonly canProduce: () => boolean
  readonly openTransport: () => Promise<types.Transport>
  readonly closeTransport: (transport: types.Transport) => Promise<void>
}

const capture = async (): Promise<MediaStreamTrack> => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true })
  const track = stream.getAudioTracks()[0]
  if (track === undefined) throw new Error("no microphone")
  return track
}

export class Microphone {
  private send: types.Transport | null = null
  private producer: types.Producer | null = null
  /**
   * Closed with the room, which doesn't wait for a step in flight (a permission prompt, a request):
   * a publish that resumes after this undoes what it opened instead of going on the air.
   */
  private closed = false

  constructor(private readonly side: SendSide) {}

  get publishing(): boolean {
    return this.producer !== null
  }

  /** Brings the microphone to what the room says. Callers run these one at a time. */
  follow(order: MicOrder): Promise<void> {
    if (!order.onStage) return this.unpublish()
    if (order.muted) return this.silence()
    return this.producer === null || this.producer.closed ? this.publish() : this.reopen()
  }

  /** For good: the room is left. */
  close(): void {
    this.closed = true
    this.release()
  }

  async outbound(): Promise<OutboundAudio | null> {
    const producer = this.producer
    if (producer === null || producer.closed) return null
    let packetsSent = 0
    let bytesSent = 0
    const report = await producer.getStats()
    report.forEach((stat: { type?: string } & Record<string, unknown>) => {
      if (stat.type !== "outbound-rtp") return
      packetsSent += Number(stat.packetsSent ?? 0)
      bytesSent += Number(stat.bytesSent ?? 0)
    })
    return {
      packetsSent,
      bytesSent,
      capturing: producer.track?.readyState === "live",
      paused: producer.paused
    }
  }

  /**
   * Checked after every await, as `close()` may have run meanwhile; a method, as TypeScript would
   * keep a narrowing of the field across awaits.
   */
  private isClosed(): boolean {
    return this.closed
  }

  private async publish(): Promise<void> {
    if (!this.side.canProduce()) throw new Error("this browser can't send audio")
    const track = await capture()
    // Closed during the capture (say, at the permission prompt): nothing else was opened yet.
    if (this.isClosed()) {
      track.stop()
      return
    }
    // A producer closed under us (its transport closed) leaves a transport that can't be reused.
    if (this.send?.closed) this.send = null
    let send = this.send
    try {
      if (send === null) {
        send = await this.side.openTransport()
        if (this.isClosed()) return await this.abandon(send, track)
        this.send = send
      }
      const producer = await send.produce({ track, stopTracks: true })
      if (this.isClosed()) {
        producer.close()
        return await this.abandon(send, track)
      }
      this.producer = producer
    } catch (error) {
      track.stop()
      // Closing the transport fails a produce in flight, but the server may have produced anyway.
      if (this.isClosed() && send !== null) return await this.abandon(send, track)
      throw error
    }
  }

  /**
   * The room was closed while a publish was in flight: nothing of it may stay on, here or on the
   * server (whose transport, and any producer on it, would outlive the room's page otherwise).
   */
  private async abandon(send: types.Transport, track: MediaStreamTrack): Promise<void> {
    track.stop()
    send.close()
    await this.side.closeTransport(send).catch(() => undefined)
  }

  /** Muted: nothing is sent and nothing is captured. */
  private async silence(): Promise<void> {
    const producer = this.producer
    // Never unmuted on this stage: nothing was captured.
    if (producer === null || producer.closed) return
    // Pausing disables the track at once; dropping it (stopTracks) releases the device and leaves
    // the sender nothing to packetize. No renegotiation, unlike `zeroRtpOnPause`.
    if (!producer.paused) producer.pause()
    if (producer.track !== null) await producer.replaceTrack({ track: null })
  }

  /** Unmuted again: a fresh capture into the same producer. */
  private async reopen(): Promise<void> {
    const producer = this.producer
    if (producer === null) return
    if (producer.track === null || producer.track.readyState === "ended") {
      const track = await capture()
      try {
        await producer.replaceTrack({ track })
      } finally {
        // Closed during the capture or the swap: a closed producer doesn't stop a track set after.
        if (this.isClosed() || producer.closed) track.stop()
      }
    }
    if (producer.paused && !producer.closed) producer.resume()
  }

  private async unpublish(): Promise<void> {
    const send = this.send
    this.release()
    if (send !== null) await this.side.closeTransport(send).catch(() => undefined)
  }

  private release(): void {
    this.producer?.close()
    this.producer = null
    this.send?.close()
    this.send = null
  }
}
