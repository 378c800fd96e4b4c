import { Context, type Effect, Schema } from "effect"

/** Every decoder is busy: the segment is skipped (captions skip rather than fall behind). */
export class RecogniserBusy extends Schema.TaggedError<RecogniserBusy>()("RecogniserBusy", {
  engine: Schema.String
}) {}

/** The engine failed on one utterance (process died, HTTP error, timeout): that segment is lost. */
export class RecogniserFailed extends Schema.TaggedError<RecogniserFailed>()("RecogniserFailed", {
  engine: Schema.String,
  reason: Schema.String
}) {}

/** One phrase being recognised: 16 kHz mono PCM pushed while it is spoken, then its final text. */
export interface Utterance {
  /** 16 kHz mono signed 16-bit samples, in order. Never blocks. */
  readonly push: (pcm: Int16Array) => void
  /** Milliseconds of pushed audio the engine has not caught up with (0 for engines that wait for the end). */
  readonly backlogMs: () => number
  /** Ends the phrase: its final text ("" when nothing was recognised). */
  readonly finish: Effect.Effect<string, RecogniserFailed>
  /** Drops the phrase (captions turned off, overload): no final text. */
  readonly cancel: Effect.Effect<void>
}

/**
 * The speech recogniser port. Engines are a file each: the embedded pocketsphinx default and a
 * Whisper-compatible HTTP endpoint. `open` never waits: a busy engine says so and the caller skips.
 */
export interface RecogniserService {
  readonly engine: string
  /** Whether `onPartial` is ever called (hypotheses while the phrase is spoken). */
  readonly partials: boolean
  readonly open: (onPartial: (text: string) => void) => Effect.Effect<Utterance, RecogniserBusy>
  /** Gets the engine ready (load a model) before the first phrase; optional to call. */
  readonly warm: Effect.Effect<void>
}

export class Recogniser extends Context.Tag("@spaces/media/Recogniser")<Recogniser, RecogniserService>() {}

/** 16 kHz mono: the rate every engine here is fed. */
export const SAMPLE_RATE = 16_000
export const samplesToMs = (samples: number) => (samples * 1000) / SAMPLE_RATE
