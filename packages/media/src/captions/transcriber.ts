import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, Exit, FiberSet, Layer, Schedule, Stream } from "effect"
import type { AudioTap } from "../mediaPlane.js"
import { OpusToPcm } from "./opusDecoder.js"
import { Recogniser, type RecogniserService, type Utterance } from "./Recogniser.js"
import { pcmLevelDbov, rtpAudio } from "./rtpAudio.js"
import { Segmenter } from "./segmenter.js"
import {
  AudioSource,
  CaptionSink,
  type CaptionSinkService,
  Transcriber,
  type TranscriberOptions,
  type TranscriberService,
  defaultTranscriberOptions
} from "./transcriberPorts.js"

export * from "./transcriberPorts.js"

interface Counters {
  decodedPackets: number
  phrases: number
  finals: number
  empty: number
  skippedBusy: number
  skippedBehind: number
  failed: number
  lastFinalLatencyMs: number | undefined
}

interface Phrase {
  readonly utterance: Utterance | undefined
  readonly startedAt: number
  lastVoicedAt: number
}

/** One speaker's track being transcribed: its tap, its decoder, its segmenter. */
class SpeakerTrack {
  private readonly segmenter: Segmenter
  private readonly opus = new OpusToPcm()
  private preRoll: Array<{ payload: Buffer; at: number }> = []
  private phrase: Phrase | undefined
  private lastTimestamp: number | undefined
  tap: AudioTap | undefined
  closed = false

  constructor(
    readonly spaceId: SpaceId,
    readonly speaker: UserId,
    readonly producerId: string,
    private readonly spaceStartedAt: number,
    private readonly options: TranscriberOptions,
    private readonly recogniser: RecogniserService,
    private readonly sink: CaptionSinkService,
    private readonly counters: Counters,
    private readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown
  ) {
    this.segmenter = new Segmenter(options.segmenter)
  }

  onRtp(packet: Buffer): void {
    if (this.closed) return
    const now = Date.now()
    const audio = rtpAudio(packet, this.tap?.audioLevelExtensionId)
    if (audio === undefined) return
    const frameMs = this.frameMs(audio.timestamp)
    // Without the audio-level extension the level comes from the decoded audio itself.
    let pcm: Int16Array | undefined
    let level = audio.levelDbov
    if (level === undefined) {
      pcm = this.decode(audio.payload)
      level = pcmLevelDbov(pcm)
    }
    const step = this.segmenter.feed(level, frameMs)
    const voiced = level >= this.options.segmenter.thresholdDbov
    switch (step) {
      case "idle":
        this.preRoll.push({ payload: audio.payload, at: now })
        if (this.preRoll.length * 20 > this.options.preRollMs) this.preRoll.shift()
        return
      case "cut":
        this.endPhrase(now)
        this.startPhrase(now)
        break
      case "start":
        this.startPhrase(now)
        break
      default:
        break
    }
    const phrase = this.phrase
    if (phrase === undefined) return
    if (voiced) phrase.lastVoicedAt = now + frameMs
    if (phrase.utterance !== undefined) {
      if (phrase.utterance.backlogMs() > this.options.maxBacklogMs) {
        this.counters.skippedBehind++
        this.runFork(
          Effect.logWarning("captions: the recogniser is behind; the phrase is skipped").pipe(
            Effect.annotateLogs({
              event: "captions.skipped",
              reason: "behind",
              spaceId: this.spaceId,
              speaker: this.speaker
            })
          )
        )
        this.runFork(phrase.utterance.cancel)
        this.phrase = { ...phrase, utterance: undefined }
      } else {
        phrase.utterance.push(pcm ?? this.decode(audio.payload))
      }
    }
    if (step === "end") this.endPhrase(now)
  }

  private frameMs(timestamp: number): number {
    const last = this.lastTimestamp
    this.lastTimestamp = timestamp
    if (last === undefined) return 20
    const ms = ((timestamp - last) >>> 0) / 48
    return ms >= 10 && ms <= 120 ? ms : 20
  }

  private decode(payload: Buffer): Int16Array {
    this.counters.decodedPackets++
    return this.opus.decode(payload)
  }

  private startPhrase(now: number): void {
    const preRoll = this.preRoll
    this.preRoll = []
    const startedAt = preRoll[0]?.at ?? now
    const opened = Effect.runSyncExit(
      this.recogniser.open((text) =>
        this.runFork(
          this.sink.partial({
            spaceId: this.spaceId,
            speaker: this.speaker,
            text,
            startMs: this.timeline(startedAt)
          })
        )
      )
    )
    this.counters.phrases++
    if (Exit.isFailure(opened)) {
      // Every decoder busy: this phrase is not decoded at all.
      this.counters.skippedBusy++
      this.runFork(
        Effect.logWarning("captions: every decoder is busy; the phrase is skipped").pipe(
          Effect.annotateLogs({
            event: "captions.skipped",
            reason: "busy",
            spaceId: this.spaceId,
            speaker: this.speaker
          })
        )
      )
      this.phrase = { utterance: undefined, startedAt, lastVoicedAt: now }
      return
    }
    const utterance = opened.value
    for (const early of preRoll) utterance.push(this.decode(early.payload))
    this.phrase = { utterance, startedAt, lastVoicedAt: now }
  }

  private endPhrase(now: number): void {
    const phrase = this.phrase
    this.phrase = undefined
    if (phrase?.utterance === undefined) return
    const { spaceId, speaker } = this
    const startMs = this.timeline(phrase.startedAt)
    const endMs = Math.max(startMs, this.timeline(Math.min(phrase.lastVoicedAt, now)))
    const counters = this.counters
    const sink = this.sink
    this.runFork(
      phrase.utterance.finish.pipe(
        Effect.flatMap((text) =>
          Effect.suspend(() => {
            counters.lastFinalLatencyMs = Date.now() - now
            if (text.length === 0) {
              counters.empty++
              return Effect.void
            }
            counters.finals++
            return sink.final({ spaceId, speaker, text, startMs, endMs })
          })
        ),
        Effect.catchAll((error) =>
          Effect.sync(() => counters.failed++).pipe(
            Effect.zipRight(
              Effect.logWarning("captions: a phrase could not be recognised", error).pipe(
                Effect.annotateLogs({ event: "captions.failed", spaceId, speaker })
              )
            )
          )
        )
      )
    )
  }

  private timeline(at: number): number {
    return Math.max(0, Math.round(at - this.spaceStartedAt))
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.tap?.close()
    const utterance = this.phrase?.utterance
    this.phrase = undefined
    if (utterance !== undefined) this.runFork(utterance.cancel)
    this.opus.close()
    this.segmenter.reset()
  }
}

interface SpaceCaptions {
  readonly tracks: Map<string, SpeakerTrack>
  stop: () => void
}

/**
 * The transcriber: for each live Space with captions on, a tap on each speaker's producer inside
 * the media plane; each talking speaker's Opus is decoded to 16 kHz PCM, cut into phrases by
 * level, and recognised; partials and finals go to the `CaptionSink`.
 */
export const makeTranscriber = (options: TranscriberOptions = defaultTranscriberOptions) =>
  Effect.gen(function* () {
    const plane = yield* AudioSource
    const recogniser = yield* Recogniser
    const sink = yield* CaptionSink
    const runFork = yield* FiberSet.makeRuntime<never>()
    const fork = <A, E>(effect: Effect.Effect<A, E>) => runFork(Effect.ignore(effect))
    const spaces = new Map<SpaceId, SpaceCaptions>()
    const counters: Counters = {
      decodedPackets: 0,
      phrases: 0,
      finals: 0,
      empty: 0,
      skippedBusy: 0,
      skippedBehind: 0,
      failed: 0,
      lastFinalLatencyMs: undefined
    }

    /** Taps new producers and forgets closed ones: the room's producers are the truth. */
    const reconcile = (spaceId: SpaceId, captions: SpaceCaptions, startedAt: number) =>
      Effect.gen(function* () {
        const producers = yield* plane.producers(spaceId)
        const present = new Set(producers.map((p) => p.producerId))
        for (const [producerId, track] of captions.tracks) {
          if (!present.has(producerId) || track.closed) {
            track.close()
            captions.tracks.delete(producerId)
          }
        }
        for (const { producerId, userId } of producers) {
          if (captions.tracks.has(producerId) || spaces.get(spaceId) !== captions) continue
          const track = new SpeakerTrack(
            spaceId,
            userId,
            producerId,
            startedAt,
            options,
            recogniser,
            sink,
            counters,
            fork
          )
          captions.tracks.set(producerId, track)
          const tap = yield* plane
            .tapAudio(spaceId, producerId, {
              onRtp: (packet) => track.onRtp(packet),
              onClose: () => track.close()
            })
            .pipe(
              Effect.catchAll((error) =>
                Effect.sync(() => {
                  captions.tracks.delete(producerId)
                  return undefined
                }).pipe(Effect.tap(() => Effect.logDebug("captions: tap failed", error)))
              )
            )
          if (tap === undefined) continue
          // Captions turned off while the tap was being made.
          if (track.closed || spaces.get(spaceId) !== captions) tap.close()
          else track.tap = tap
        }
      })

    /** Follows the room: every track event (and a slow tick, for rooms that move) reconciles. */
    const follow = (spaceId: SpaceId, captions: SpaceCaptions, startedAt: number) =>
      Effect.gen(function* () {
        yield* reconcile(spaceId, captions, startedAt)
        yield* plane.events(spaceId).pipe(Stream.runForEach(() => reconcile(spaceId, captions, startedAt)))
      }).pipe(Effect.ignore, Effect.repeat(Schedule.spaced("1 second")), Effect.asVoid)

    const setCaptions = (spaceId: SpaceId, on: boolean, startedAt: number) =>
      Effect.sync(() => {
        const current = spaces.get(spaceId)
        if (on && current === undefined) {
          const captions: SpaceCaptions = { tracks: new Map(), stop: () => {} }
          spaces.set(spaceId, captions)
          fork(recogniser.warm)
          const fiber = runFork(follow(spaceId, captions, startedAt))
          captions.stop = () => fiber.unsafeInterruptAsFork(fiber.id())
        } else if (!on && current !== undefined) {
          spaces.delete(spaceId)
          current.stop()
          for (const track of current.tracks.values()) track.close()
          current.tracks.clear()
        }
      })

    yield* Effect.addFinalizer(() =>
      Effect.forEach([...spaces.keys()], (spaceId) => setCaptions(spaceId, false, 0), { discard: true })
    )

    const service: TranscriberService = {
      setCaptions,
      stats: Effect.sync(() => ({
        spaces: spaces.size,
        tappedSpeakers: [...spaces.values()].reduce((n, s) => n + s.tracks.size, 0),
        ...counters
      }))
    }
    return service
  })

export const TranscriberLive = (options: TranscriberOptions = defaultTranscriberOptions) =>
  Layer.scoped(Transcriber, makeTranscriber(options))
