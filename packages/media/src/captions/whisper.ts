import { Effect, Layer, Schema } from "effect"
import { Recogniser, RecogniserBusy, RecogniserFailed, type RecogniserService } from "./Recogniser.js"
import { wavFile } from "./wav.js"

export interface WhisperOptions {
  /** The server's base URL; the recogniser posts to `<url>/v1/audio/transcriptions`. */
  readonly url: string
  /** The `model` form field (whisper.cpp's server ignores it; OpenAI wants e.g. `whisper-1`). */
  readonly model: string
  /** Sent as `Authorization: Bearer <key>` when set. */
  readonly apiKey: string | undefined
  /** The `language` form field (ISO 639-1) when set; otherwise the server detects it. */
  readonly language: string | undefined
  /** Requests in flight at most; a phrase ending beyond that is skipped. */
  readonly maxInFlight: number
  readonly timeoutMs: number
}

const ENGINE = "whisper-http"
const Transcription = Schema.Struct({ text: Schema.String })

/** The endpoint of a Whisper-compatible server (whisper.cpp's `server`, faster-whisper, OpenAI, ...). */
export const transcriptionsUrl = (base: string) =>
  new URL("v1/audio/transcriptions", base.endsWith("/") ? base : `${base}/`)

/**
 * A Whisper-compatible HTTP endpoint: each phrase is sent whole, as a 16 kHz mono WAV in a
 * multipart `POST /v1/audio/transcriptions`, when it ends. No partials (the protocol has none).
 */
export const makeWhisper = (options: WhisperOptions): RecogniserService => {
  let inFlight = 0
  const transcribe = (pcm: Int16Array) =>
    Effect.tryPromise({
      try: async (signal) => {
        const form = new FormData()
        form.append("file", new Blob([wavFile(pcm)], { type: "audio/wav" }), "phrase.wav")
        form.append("model", options.model)
        form.append("response_format", "json")
        if (options.language !== undefined) form.append("language", options.language)
        const response = await fetch(transcriptionsUrl(options.url), {
          method: "POST",
          body: form,
          headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` },
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)])
        })
        if (!response.ok)
          throw new Error(`HTTP ${response.status} from ${transcriptionsUrl(options.url).origin}`)
        return Schema.decodeUnknownSync(Transcription)(await response.json()).text.trim()
      },
      catch: (error) =>
        new RecogniserFailed({
          engine: ENGINE,
          reason: error instanceof Error ? error.message : String(error)
        })
    })

  return {
    engine: ENGINE,
    partials: false,
    warm: Effect.void,
    open: () =>
      Effect.suspend(() => {
        if (inFlight >= options.maxInFlight) return Effect.fail(new RecogniserBusy({ engine: ENGINE }))
        inFlight++
        const chunks: Array<Int16Array> = []
        let length = 0
        let open = true
        const release = () => {
          if (open) inFlight--
          open = false
        }
        return Effect.succeed({
          push: (pcm: Int16Array) => {
            if (!open) return
            chunks.push(pcm)
            length += pcm.length
          },
          backlogMs: () => 0,
          finish: Effect.suspend(() => {
            const pcm = new Int16Array(length)
            let offset = 0
            for (const chunk of chunks) {
              pcm.set(chunk, offset)
              offset += chunk.length
            }
            return transcribe(pcm)
          }).pipe(Effect.ensuring(Effect.sync(release))),
          cancel: Effect.sync(release)
        })
      })
  }
}

export const WhisperRecogniser = (options: WhisperOptions) => Layer.succeed(Recogniser, makeWhisper(options))
