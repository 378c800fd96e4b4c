import { createSocket, type Socket } from "node:dgram"
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync
} from "node:fs"
import { join } from "node:path"
import type { UserId } from "@spaces/domain"
import { Effect, Schema, type Types } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { recordingTransportOptions } from "../mediasoupOptions.js"
import type { ProducerEntry, Room } from "../room/room.js"
import {
  manifestPath as manifestPathOf,
  type RecordedTrack,
  RecordingManifest,
  recordingDir
} from "./manifest.js"
import { OggOpusStream, OPUS_SILENCE_20MS } from "./oggOpus.js"

/** The recorder's working copy of the manifest: track figures grow while it records. */
type ManifestBook = Omit<RecordingManifest, "tracks"> & { readonly tracks: Array<TrackBook> }
type TrackBook = Types.Mutable<RecordedTrack>

export interface Recorder {
  readonly addTrack: (entry: ProducerEntry) => Effect.Effect<void>
  readonly stop: Effect.Effect<void>
  /** Samples written so far over all tracks of the manifest. */
  readonly samples: () => number
}

const SAMPLES_PER_FRAME = 960
/** Longest gap filled with silence (10 min); a longer jump in RTP time is a broken clock, not a mute. */
const MAX_FILL_FRAMES = 30_000

/** Writes one producer's Opus payloads into an Ogg file, filling RTP-timestamp gaps (mutes) with silence. */
class TrackWriter {
  private readonly fd: number
  private readonly ogg: OggOpusStream
  private lastTimestamp: number | undefined
  private lastSamples = 0
  closed = false

  constructor(
    path: string,
    userId: UserId,
    readonly track: TrackBook
  ) {
    this.fd = openSync(path, "w")
    this.ogg = new OggOpusStream((Math.random() * 0xffffffff) >>> 0)
    writeSync(this.fd, this.ogg.headers(2, "spaces-media", [`SPEAKER=${userId}`]))
  }

  write(timestamp: number, payload: Uint8Array, now: number, startedAt: number): void {
    if (this.closed) return
    if (this.track.startOffsetMs === null) this.track.startOffsetMs = now - startedAt
    if (this.lastTimestamp !== undefined) {
      const gap = (timestamp - this.lastTimestamp - this.lastSamples) >>> 0
      const frames = Math.floor(gap / SAMPLES_PER_FRAME)
      // A gap far beyond the cap wraps (reordered or duplicate packet): nothing to fill.
      if (frames > 0 && frames <= MAX_FILL_FRAMES) {
        for (let i = 0; i < frames; i++) this.append(OPUS_SILENCE_20MS)
      }
    }
    this.lastTimestamp = timestamp
    this.lastSamples = this.append(payload)
  }

  private append(packet: Uint8Array): number {
    const before = this.ogg.samples
    const page = this.ogg.push(packet)
    if (page.length > 0) writeSync(this.fd, page)
    const samples = Number(this.ogg.samples - before)
    this.track.samples += samples
    return samples
  }

  finish(now: number, startedAt: number): void {
    if (this.closed) return
    this.closed = true
    writeSync(this.fd, this.ogg.flush(true))
    closeSync(this.fd)
    this.track.endOffsetMs = now - startedAt
  }
}

const readManifest = (text: string): ManifestBook => {
  const { tracks, ...rest } = Schema.decodeUnknownSync(Schema.parseJson(RecordingManifest))(text)
  return { ...rest, tracks: tracks.map((track) => ({ ...track })) }
}

const bindSocket = (ip: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = createSocket("udp4")
    socket.once("error", reject)
    socket.bind(0, ip, () => resolve(socket))
  })

/**
 * Records every speaker of a room: per producer, a PlainTransport consumer on the origin router
 * sends RTP to a local UDP socket, whose payloads go to an Ogg Opus file; manifest.json says when
 * each track starts, so that the replay can line the tracks up with the Space's event log.
 */
export const startRecorder = (room: Room, config: MediaConfig): Effect.Effect<Recorder, Error> =>
  Effect.try({
    try: () => {
      const dir = recordingDir(config.recordingsDir, room.spaceId)
      mkdirSync(dir, { recursive: true })
      const manifestPath = manifestPathOf(config.recordingsDir, room.spaceId)
      // Recording toggled back on (or a restart, or a room reopened elsewhere) continues the manifest.
      const manifest: ManifestBook = existsSync(manifestPath)
        ? readManifest(readFileSync(manifestPath, "utf8"))
        : { spaceId: room.spaceId, startedAt: Date.now(), tracks: [] }
      const saveManifest = () => {
        writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`)
        renameSync(`${manifestPath}.tmp`, manifestPath)
      }
      saveManifest()

      const live = new Set<{ writer: TrackWriter; transport: types.PlainTransport; socket: Socket }>()
      let stopped = false

      const addTrack = (entry: ProducerEntry): Effect.Effect<void> =>
        Effect.tryPromise(async () => {
          if (stopped || entry.producer.closed) return
          const file = `${String(manifest.tracks.length + 1).padStart(3, "0")}-${entry.userId}.opus`
          const track: TrackBook = {
            file,
            userId: entry.userId,
            producerId: entry.producer.id,
            startOffsetMs: null,
            endOffsetMs: null,
            samples: 0
          }
          const router = room.origin.router
          const socket = await bindSocket(config.recordingIp)
          const transport = await router.createPlainTransport(recordingTransportOptions(config.recordingIp))
          await transport.connect({ ip: config.recordingIp, port: socket.address().port })
          const consumer = await transport.consume({
            producerId: entry.producer.id,
            rtpCapabilities: router.rtpCapabilities,
            paused: true
          })
          manifest.tracks.push(track)
          const writer = new TrackWriter(join(dir, file), entry.userId, track)
          const handle = { writer, transport, socket }
          live.add(handle)
          socket.on("message", (packet) => onRtp(writer, packet))
          const end = () => {
            if (!live.delete(handle)) return
            writer.finish(Date.now(), manifest.startedAt)
            transport.close()
            socket.close()
            saveManifest()
          }
          consumer.observer.once("close", end)
          saveManifest()
          await consumer.resume()
        }).pipe(Effect.catchAll((error) => Effect.logError("recording a track failed", error)))

      const onRtp = (writer: TrackWriter, packet: Buffer) => {
        if (packet.length < 12 || packet[0]! >> 6 !== 2) return
        const payloadType = packet[1]! & 0x7f
        if (payloadType >= 72 && payloadType <= 76) return // RTCP
        let offset = 12 + (packet[0]! & 0x0f) * 4
        if (packet[0]! & 0x10 && packet.length >= offset + 4)
          offset += 4 + packet.readUInt16BE(offset + 2) * 4
        const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0
        if (offset >= packet.length - padding) return
        writer.write(
          packet.readUInt32BE(4),
          packet.subarray(offset, packet.length - padding),
          Date.now(),
          manifest.startedAt
        )
      }

      const stop = Effect.sync(() => {
        stopped = true
        const now = Date.now()
        for (const handle of [...live]) {
          live.delete(handle)
          handle.writer.finish(now, manifest.startedAt)
          handle.transport.close()
          handle.socket.close()
        }
        saveManifest()
      })

      const samples = () => manifest.tracks.reduce((sum, track) => sum + track.samples, 0)
      return { addTrack, stop, samples }
    },
    catch: (error) => (error instanceof Error ? error : new Error(String(error)))
  })
