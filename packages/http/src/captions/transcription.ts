import {
  decodeRecorded,
  LogFollower,
  type RecordedEvent,
  ServiceId,
  SpaceEvent,
  type SpaceEventTag,
  type SpaceId,
  Spaces,
  isSpaceStream
} from "@spaces/domain"
import {
  CaptionSink,
  type CaptionSinkService,
  AudioSource,
  type MediaPlaneService,
  PocketsphinxRecogniser,
  TranscriberLive,
  Transcriber,
  WhisperRecogniser
} from "@spaces/media"
import { Context, Effect, Either, Layer, Stream } from "effect"
import type { AppServices } from "../app/context.js"
import type { CaptionsSwitch } from "./captionedSpaces.js"
import type { EngineConfig } from "../config.js"
import type { Logger } from "../log.js"
import type { CaptionPartials } from "../sse/captionPartials.js"
import type { LiveAtStart } from "../startup/liveAtStart.js"

const decode = decodeRecorded(SpaceEvent)

/** The recogniser the configuration names. */
export const recogniserLayer = (config: EngineConfig) =>
  config.engine === "pocketsphinx"
    ? PocketsphinxRecogniser({
        decoders: config.decoders,
        ...(config.modelDir === undefined ? {} : { modelDir: config.modelDir })
      })
    : WhisperRecogniser({
        url: config.url,
        model: config.model,
        apiKey: config.apiKey,
        language: config.language,
        maxInFlight: config.maxInFlight,
        timeoutMs: 30_000
      })

/**
 * In-process: finals are `AppendCaption` commands by the transcription service identity (the domain
 * checks captions are on and the speaker is present); partials go to the room's live streams.
 */
const inProcessSink = (
  serviceId: string,
  partials: CaptionPartials,
  run: <A, E>(effect: Effect.Effect<A, E, AppServices>) => Effect.Effect<A, E>,
  logger: Logger
): CaptionSinkService => {
  const service = ServiceId.make(serviceId)
  return {
    partial: partials.publish,
    final: ({ spaceId, speaker, text, startMs, endMs }) =>
      run(
        Effect.flatMap(Spaces, (spaces) =>
          spaces.execute({
            _tag: "AppendCaption",
            spaceId,
            service,
            segment: { speaker, text, startMs, endMs }
          })
        )
      ).pipe(
        Effect.tap(() =>
          Effect.sync(() => logger.debug("caption appended", { spaceId, speaker, startMs, endMs }))
        ),
        // Captions turned off, the speaker left, the Space ended meanwhile: the segment is dropped.
        Effect.catchAll((error) =>
          Effect.sync(() =>
            logger.info("caption segment refused", { spaceId, speaker, error: String(error) })
          )
        ),
        Effect.asVoid
      )
  }
}

/** The transcriber of this server, on its media plane, with the configured engine. */
export const transcriberFor = (
  config: EngineConfig,
  plane: MediaPlaneService,
  partials: CaptionPartials,
  run: <A, E>(effect: Effect.Effect<A, E, AppServices>) => Effect.Effect<A, E>,
  logger: Logger
) =>
  Layer.build(
    TranscriberLive().pipe(
      Layer.provide(recogniserLayer(config)),
      Layer.provide(Layer.succeed(AudioSource, plane)),
      Layer.provide(Layer.succeed(CaptionSink, inProcessSink(config.serviceId, partials, run, logger)))
    )
  ).pipe(Effect.map((context) => Context.get(context, Transcriber)))

const CAPTION_EVENTS: ReadonlySet<string> = new Set<SpaceEventTag>([
  "SpaceStarted",
  "CaptionsChanged",
  "SpaceEnded",
  "SpaceCancelled",
  "SpaceExpired"
])

/** Whether a Space's captions are on now, and since when it has been live. */
const captionsOf = (spaceId: SpaceId) =>
  Effect.flatMap(Spaces, (spaces) => spaces.space(spaceId)).pipe(
    Effect.map((state) => ({
      on: state.status === "live" && state.captions,
      startedAt: state.startedAt ?? Date.now()
    }))
  )

/**
 * Follows the log into the transcriber: a live Space with captions on is transcribed, from the
 * Spaces live at start (as the rooms view knows them) on; captions off or the Space ending stops
 * it at once. The log comes from the process's one log follower, after the rooms view's position
 * (the follower owns resubscribing after a store outage).
 */
export const followLogIntoCaptions = (transcriber: CaptionsSwitch, startup: Effect.Effect<LiveAtStart>) =>
  Effect.gen(function* () {
    const follower = yield* LogFollower
    const { position, live } = yield* startup
    for (const { spaceId, captions, startedAt } of live)
      if (captions) yield* transcriber.setCaptions(spaceId, true, startedAt)
    const apply = (r: RecordedEvent) =>
      Effect.gen(function* () {
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return
        const event = decoded.right
        switch (event._tag) {
          case "SpaceStarted":
          case "CaptionsChanged": {
            const { on, startedAt } = yield* captionsOf(event.spaceId)
            return yield* transcriber.setCaptions(event.spaceId, on, startedAt)
          }
          default:
            return yield* transcriber.setCaptions(event.spaceId, false, 0)
        }
      })
    // Filtered a chunk at a time: most of the log is none of these, and needs no effect each.
    yield* follower.follow(position).pipe(
      Stream.filter((r) => isSpaceStream(r.streamId) && CAPTION_EVENTS.has(r.type)),
      Stream.runForEach(apply)
    )
  })
