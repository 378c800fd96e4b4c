import { createSocket, type Socket } from "node:dgram"
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { UserId } from "@spaces/domain"
import { Effect, type Types } from "effect"
import type { types } from "mediasoup"
import type { MediaConfig } from "../config.js"
import { recordingTransportOptions } from "../mediasoupOptions.js"
import type { ProducerEntry, Room } from "../room/room.js"
import {
  foldJournal,
  type JournalEntry,
  journalPath,
  manifestPath as oldManifestPath,
  type RecordedTrack,
  type RecordingManifest,
  recordingDir
} from "./manifest.js"
import { OggOpusStream, OPUS_SILENCE_20MS } from "./oggOpus.js"

/** The recorder's working copy of the manifest: track figures grow while it records. */
type ManifestBook = Omit<RecordingManifest, "tracks"> & { readonly tracks: Array<TrackBook> }
type TrackBook = Types.Mutable<RecordedTrack>

export interface Recorder {
  /** Records a producer: into its speaker's current turn (track file), or a new turn. */
  readonly addTrack: (entry: ProducerEntry) => Effect.Effect<void>
  /** The speaker's turn is over (rights revoked, left, removed): their track file is complete. */
  readonly endTurn: (userId: UserId) => Effect.Effect<void>
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
  /** The producer (SSRC) the last packet came from: another one has its own RTP clock. */
  private lastSource: object | undefined
  private lastWallMs = 0
  closed = false

  constructor(
    path: string,
    userId: UserId,
    readonly track: TrackBook,
    private readonly onStart: (startOffsetMs: number) => void
  ) {
    this.fd = openSync(path, "w")
    this.ogg = new OggOpusStream((Math.random() * 0xffffffff) >>> 0)
    writeSync(this.fd, this.ogg.headers(2, "spaces-media", [`SPEAKER=${userId}`]))
  }

  write(timestamp: number, payload: Uint8Array, now: number, startedAt: number, source: object): void {
    if (this.closed) return
    if (this.track.startOffsetMs === null) {
      this.track.startOffsetMs = now - startedAt
      this.onStart(this.track.startOffsetMs)
    }
    if (this.lastSource !== undefined && source !== this.lastSource) {
      // A new producer in the same turn (a reconnect): its RTP clock is unrelated, so the gap
      // since the last packet is measured on the wall clock.
      const frames = Math.floor((now - this.lastWallMs) / 20)
      for (let i = 0; i < Math.min(frames, MAX_FILL_FRAMES); i++) this.append(OPUS_SILENCE_20MS)
      this.lastTimestamp = undefined
    }
    this.lastSource = source
    this.lastWallMs = now
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

const bookOf = ({ tracks, ...rest }: RecordingManifest): ManifestBook => ({
  ...rest,
  tracks: tracks.map((track) => ({ ...track }))
})

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
      const journal = journalPath(config.recordingsDir, room.spaceId)
      const older = oldManifestPath(config.recordingsDir, room.spaceId)
      // Recording toggled back on (or a restart, or a room reopened elsewhere) continues the
      // journal; a recording made before the journal continues from its manifest.json.
      const manifest: ManifestBook = existsSync(journal)
        ? bookOf(
            foldJournal(readFileSync(journal, "utf8")) ?? {
              spaceId: room.spaceId,
              startedAt: Date.now(),
              tracks: []
            }
          )
        : existsSync(older)
          ? bookOf(JSON.parse(readFileSync(older, "utf8")) as RecordingManifest)
          : { spaceId: room.spaceId, startedAt: Date.now(), tracks: [] }
      /** Appends one change to the journal: the manifest is never rewritten. */
      const note = (entry: JournalEntry) => appendFileSync(journal, `${JSON.stringify(entry)}\n`)
      if (!existsSync(journal)) {
        note({ kind: "recording", spaceId: room.spaceId, startedAt: manifest.startedAt })
        for (const track of manifest.tracks) {
          note({ kind: "track", file: track.file, userId: track.userId, producerId: track.producerId })
          if (track.startOffsetMs !== null)
            note({ kind: "started", file: track.file, startOffsetMs: track.startOffsetMs })
          if (track.endOffsetMs !== null)
            note({ kind: "ended", file: track.file, endOffsetMs: track.endOffsetMs, samples: track.samples })
        }
      }

      /** A producer being recorded: its consumer's transport and the socket its RTP arrives on. */
      interface Source {
        readonly transport: types.PlainTransport
        readonly socket: Socket
      }
      /** A speaker turn: one track file, fed by every producer the speaker has during the turn. */
      interface Turn {
        readonly writer: TrackWriter
        readonly sources: Set<Source>
      }
      const turns = new Map<UserId, Turn>()
      let stopped = false

      const closeSource = (source: Source) => {
        source.transport.close()
        source.socket.close()
      }

      const turnOf = (entry: ProducerEntry): Turn => {
        const current = turns.get(entry.userId)
        if (current !== undefined && !current.writer.closed) return current
        const file = `${String(manifest.tracks.length + 1).padStart(3, "0")}-${entry.userId}.opus`
        const track: TrackBook = {
          file,
          userId: entry.userId,
          producerId: entry.producer.id,
          startOffsetMs: null,
          endOffsetMs: null,
          samples: 0
        }
        manifest.tracks.push(track)
        note({ kind: "track", file, userId: entry.userId, producerId: entry.producer.id })
        const writer = new TrackWriter(join(dir, file), entry.userId, track, (startOffsetMs) =>
          note({ kind: "started", file, startOffsetMs })
        )
        const turn: Turn = { writer, sources: new Set() }
        turns.set(entry.userId, turn)
        return turn
      }

      const finishTurn = (userId: UserId, now: number) => {
        const turn = turns.get(userId)
        if (turn === undefined) return
        turns.delete(userId)
        // Cleared first: closing a transport closes its consumer, whose handler looks in the set.
        const sources = [...turn.sources]
        turn.sources.clear()
        for (const source of sources) closeSource(source)
        const { track } = turn.writer
        turn.writer.finish(now, manifest.startedAt)
        note({
          kind: "ended",
          file: track.file,
          endOffsetMs: track.endOffsetMs ?? now - manifest.startedAt,
          samples: track.samples
        })
      }

      const addTrack = (entry: ProducerEntry): Effect.Effect<void> =>
        Effect.tryPromise(async () => {
          if (stopped || entry.producer.closed) return
          const router = room.origin.router
          const socket = await bindSocket(config.recordingIp)
          const transport = await router.createPlainTransport(recordingTransportOptions(config.recordingIp))
          await transport.connect({ ip: config.recordingIp, port: socket.address().port })
          const consumer = await transport.consume({
            producerId: entry.producer.id,
            rtpCapabilities: router.rtpCapabilities,
            paused: true
          })
          if (stopped || consumer.closed) {
            transport.close()
            socket.close()
            return
          }
          const turn = turnOf(entry)
          const source: Source = { transport, socket }
          turn.sources.add(source)
          socket.on("message", (packet) => onRtp(turn.writer, packet, source))
          // The producer closed (a re-publish, a reconnect): the turn goes on with the next one.
          consumer.observer.once("close", () => {
            if (turn.sources.delete(source)) closeSource(source)
          })
          await consumer.resume()
        }).pipe(Effect.catchAll((error) => Effect.logError("recording a track failed", error)))

      const endTurn = (userId: UserId) => Effect.sync(() => finishTurn(userId, Date.now()))

      const onRtp = (writer: TrackWriter, packet: Buffer, source: Source) => {
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
          manifest.startedAt,
          source
        )
      }

      const stop = Effect.sync(() => {
        stopped = true
        const now = Date.now()
        for (const userId of [...turns.keys()]) finishTurn(userId, now)
      })

      const samples = () => manifest.tracks.reduce((sum, track) => sum + track.samples, 0)
      return { addTrack, endTurn, stop, samples }
    },
    catch: (error) => (error instanceof Error ? error : new Error(String(error)))
  })
