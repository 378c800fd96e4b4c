import { readFileSync } from "node:fs"
import { AudioSource, CaptionSink, makeTranscriber } from "@spaces/media"
import { Effect, Exit, Fiber, Layer, Schedule, Scope } from "effect"
import {
  type CaptionedSpacesSnapshot,
  fetchCaptionedSpaces,
  makeSpacesApi,
  remoteAudioSource,
  remoteCaptionSink
} from "../captions/remote.js"
import { recogniserLayer } from "../captions/transcription.js"
import { ConfigInvalid, loadTranscriberConfig, type TranscriberConfig } from "../config.js"
import { type Logger, makeLogger } from "../log.js"
import { effectLogger } from "../main.js"

/**
 * `npm run transcriber`: the transcriber as its own process, on this machine or another. It lists
 * the live Spaces with captions on every second, taps their speakers through the server's media
 * taps into local UDP sockets, runs the same transcriber (segmenter, Opus decoder, recogniser) as
 * the server's own, and posts partials and finals with its service token.
 */
const run = (config: TranscriberConfig, logger: Logger) =>
  Effect.gen(function* () {
    const { token } = config
    const api = makeSpacesApi(config.url, () =>
      "value" in token ? token.value : readFileSync(token.file, "utf8").trim()
    )
    let latest: CaptionedSpacesSnapshot = new Map()
    // Runs last (finalizers run in reverse): the taps' DELETEs sent by the transcriber's own finalizer.
    yield* Effect.addFinalizer(() => Effect.promise(() => api.settle()))
    const recogniser = yield* Layer.build(recogniserLayer(config.engine))
    const transcriber = yield* makeTranscriber().pipe(
      Effect.provideService(
        AudioSource,
        remoteAudioSource(api, config.host, () => latest, logger)
      ),
      Effect.provideService(CaptionSink, remoteCaptionSink(api, logger)),
      Effect.provide(recogniser)
    )
    logger.info("transcriber started", { url: config.url, host: config.host, engine: config.engine.engine })
    const refresh = fetchCaptionedSpaces(api).pipe(
      Effect.flatMap((spaces) =>
        Effect.gen(function* () {
          const before = latest
          latest = spaces
          for (const [spaceId, { startedAt }] of spaces)
            if (!before.has(spaceId)) {
              logger.info("captions on", { event: "transcriber.space", spaceId })
              yield* transcriber.setCaptions(spaceId, true, startedAt)
            }
          for (const spaceId of before.keys())
            if (!spaces.has(spaceId)) {
              logger.info("captions off", { event: "transcriber.space-off", spaceId })
              yield* transcriber.setCaptions(spaceId, false, 0)
            }
        })
      ),
      Effect.catchAll((error) =>
        Effect.sync(() => logger.warn("cannot list the captioned Spaces", { error: String(error.error) }))
      )
    )
    // What `/metrics` shows of the server's own transcriber, as a log line a minute.
    yield* Effect.forkScoped(
      transcriber.stats.pipe(
        Effect.tap((stats) =>
          Effect.sync(() => logger.info("transcriber stats", { event: "transcriber.stats", ...stats }))
        ),
        Effect.delay("1 minute"),
        Effect.forever
      )
    )
    yield* refresh.pipe(Effect.repeat(Schedule.spaced("1 second")))
  })

const main = async () => {
  let config: TranscriberConfig
  try {
    config = loadTranscriberConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`transcriber: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const scope = Effect.runSync(Scope.make())
  const logger = makeLogger(config.logLevel)
  // Effect's own log lines (a skipped phrase, overload) go through the same JSON logger.
  const fiber = Effect.runFork(
    Scope.extend(run(config, logger), scope).pipe(Effect.provide(effectLogger(logger)))
  )
  const stop = () =>
    Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.zipRight(Scope.close(scope, Exit.void)))).then(() =>
      process.exit(0)
    )
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
  const exit = await Effect.runPromise(Fiber.await(fiber))
  if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) {
    process.stderr.write(`transcriber: ${String(exit.cause)}\n`)
    process.exit(1)
  }
}

void main()
