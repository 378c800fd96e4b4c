/** How speech is cut into phrases. */
export interface SegmenterOptions {
  /** A frame at or above this level (dBov) is speech. */
  readonly thresholdDbov: number
  /** This much silence ends a phrase. */
  readonly hangoverMs: number
  /** A phrase is cut here even if the speaker goes on (the next one starts at once). */
  readonly maxSegmentMs: number
}

export const defaultSegmenterOptions: SegmenterOptions = {
  thresholdDbov: -50,
  hangoverMs: 600,
  maxSegmentMs: 12_000
}

/**
 * What a frame means: `idle` (silence, nothing to decode), `start` (a phrase begins with it),
 * `speech` (part of the phrase), `end` (the phrase is over after it), `cut` (the phrase reached
 * its maximum: it ends before this frame, which starts the next).
 */
export type SegmentStep = "idle" | "start" | "speech" | "end" | "cut"

/** Voice activity by level with a hangover and a maximum length; pure, one per speaker. */
export class Segmenter {
  private inPhrase = false
  private silenceMs = 0
  private phraseMs = 0

  constructor(private readonly options: SegmenterOptions = defaultSegmenterOptions) {}

  feed(levelDbov: number, frameMs: number): SegmentStep {
    const voiced = levelDbov >= this.options.thresholdDbov
    if (!this.inPhrase) {
      if (!voiced) return "idle"
      this.inPhrase = true
      this.silenceMs = 0
      this.phraseMs = frameMs
      return "start"
    }
    if (this.phraseMs + frameMs > this.options.maxSegmentMs) {
      this.silenceMs = 0
      this.phraseMs = frameMs
      if (voiced) return "cut"
      this.inPhrase = false
      return "end"
    }
    this.phraseMs += frameMs
    this.silenceMs = voiced ? 0 : this.silenceMs + frameMs
    if (this.silenceMs >= this.options.hangoverMs) {
      this.inPhrase = false
      return "end"
    }
    return "speech"
  }

  /** Forget the phrase in progress (captions off, skip). */
  reset(): void {
    this.inPhrase = false
    this.silenceMs = 0
    this.phraseMs = 0
  }
}
