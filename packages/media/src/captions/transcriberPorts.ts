/** The transcriber's ports and options: where captions go, where audio comes from, what it reports. */
import type { SpaceId, UserId } from "@spaces/domain"
import { Context, type Effect } from "effect"
import type { MediaPlaneService } from "../mediaPlane.js"
import { defaultSegmenterOptions, type SegmenterOptions } from "./segmenter.js"

/** A hypothesis while the phrase is spoken: ephemeral, for the room's live stream. */
export interface PartialCaption {
  readonly spaceId: SpaceId
  readonly speaker: UserId
  readonly text: string
  /** When the phrase started, on the Space's timeline (ms since it started). */
  readonly startMs: number
}

/** A finished phrase, to be appended to the Space's log as `CaptionAppended`. */
export interface FinalCaption {
  readonly spaceId: SpaceId
  readonly speaker: UserId
  readonly text: string
  readonly startMs: number
  readonly endMs: number
}

/** Where captions go: in-process (the domain and the room's live stream) or over the API. */
export interface CaptionSinkService {
  readonly partial: (caption: PartialCaption) => Effect.Effect<void>
  readonly final: (caption: FinalCaption) => Effect.Effect<void>
}
export class CaptionSink extends Context.Tag("@spaces/media/CaptionSink")<
  CaptionSink,
  CaptionSinkService
>() {}

/**
 * Where the transcriber gets a Space's audio: the media plane of this process, or a server's media
 * taps over the API (the transcriber as its own process). A source without room events returns an
 * empty stream: the transcriber then looks at the producers every second.
 */
export type AudioSourceService = Pick<MediaPlaneService, "producers" | "tapAudio" | "events">
export class AudioSource extends Context.Tag("@spaces/media/AudioSource")<
  AudioSource,
  AudioSourceService
>() {}

/** Figures for `/metrics` and tests: what was decoded, recognised and skipped. */
export interface TranscriberStats {
  readonly spaces: number
  readonly tappedSpeakers: number
  /** Opus packets decoded to PCM (silence and muted speakers are not decoded). */
  readonly decodedPackets: number
  readonly phrases: number
  readonly finals: number
  /** Phrases recognised as nothing. */
  readonly empty: number
  /** Phrases dropped: every decoder busy, or the decoder too far behind (overload). */
  readonly skippedBusy: number
  readonly skippedBehind: number
  readonly failed: number
  /** End of phrase → final text, of the last final (ms). */
  readonly lastFinalLatencyMs: number | undefined
}

export interface TranscriberService {
  /**
   * Captions on (transcribe the Space's speakers from now on) or off (stop at once: taps closed,
   * phrases in progress dropped). `startedAt` is when the Space went live: caption times count from it.
   */
  readonly setCaptions: (spaceId: SpaceId, on: boolean, startedAt: number) => Effect.Effect<void>
  readonly stats: Effect.Effect<TranscriberStats>
}
export class Transcriber extends Context.Tag("@spaces/media/Transcriber")<
  Transcriber,
  TranscriberService
>() {}

export interface TranscriberOptions {
  readonly segmenter: SegmenterOptions
  /** Audio kept from before a phrase starts (its first syllable is often below the threshold). */
  readonly preRollMs: number
  /** A phrase the recogniser is further behind than this is dropped: captions skip, never lag. */
  readonly maxBacklogMs: number
}
export const defaultTranscriberOptions: TranscriberOptions = {
  segmenter: defaultSegmenterOptions,
  preRollMs: 200,
  maxBacklogMs: 4000
}
