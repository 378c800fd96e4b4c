import {
  decodeRecorded,
  isSpeakingRole,
  LogFollower,
  type RecordedEvent,
  SpaceEvent,
  type SpaceEventTag,
  Spaces
} from "@spaces/domain"
import { MediaInstruction, type MediaPlaneService } from "@spaces/media"
import { Effect, Either, HashMap, Stream } from "effect"
import type { Logger } from "../log.js"
import type { LiveAtStart } from "../startup/liveAtStart.js"

const decode = decodeRecorded(SpaceEvent)

/** Every event type `instructionsFor` turns into orders; the follower decodes only these. */
const MEDIA_EVENTS: ReadonlySet<string> = new Set<SpaceEventTag>([
  "SpaceStarted",
  "SpeakerMuted",
  "AllSpeakersMuted",
  "SpeakerUnmuted",
  "SteppedDown",
  "ParticipantLeft",
  "HostLeft",
  "ParticipantRemoved",
  "SpaceEnded",
  "SpaceCancelled",
  "SpaceExpired",
  "RecordingChanged"
])

/** The media plane's orders for one domain event (idempotent; SPEC §3: the media plane obeys the domain). */
export const instructionsFor = (event: SpaceEvent) =>
  Effect.gen(function* () {
    const I = MediaInstruction
    const spaceId = event.spaceId
    switch (event._tag) {
      case "SpaceStarted": {
        const state = yield* Effect.flatMap(Spaces, (s) => s.space(spaceId))
        return [I.SpaceStarted({ spaceId, recording: state.recording })]
      }
      case "SpeakerMuted":
        return [I.SpeakerMuted({ spaceId, userId: event.user })]
      case "AllSpeakersMuted": {
        const state = yield* Effect.flatMap(Spaces, (s) => s.space(spaceId))
        return [...HashMap.entries(state.participants)]
          .filter(([user, p]) => isSpeakingRole(p.role) && user !== state.host)
          .map(([userId]) => I.SpeakerMuted({ spaceId, userId }))
      }
      case "SpeakerUnmuted":
        return [I.SpeakerUnmuted({ spaceId, userId: event.user })]
      case "SteppedDown":
        return [I.SpeakerRevoked({ spaceId, userId: event.user })]
      // CoHostRemoved: back to speaker, still on stage; nothing for the media plane.
      case "ParticipantLeft":
      case "HostLeft":
        return [I.ParticipantLeft({ spaceId, userId: event.user })]
      case "ParticipantRemoved":
        return [I.ParticipantRemoved({ spaceId, userId: event.user })]
      case "SpaceEnded":
      case "SpaceCancelled":
      case "SpaceExpired":
        return [I.SpaceEnded({ spaceId })]
      case "RecordingChanged":
        return [I.RecordingChanged({ spaceId, recording: event.recording })]
      default:
        return []
    }
  })

/** Rooms reopened at once after a restart: each is a few calls to a mediasoup worker. */
const REOPEN_CONCURRENCY = 16

/**
 * Reopens the rooms of the Spaces live at start (after a restart the media plane starts empty),
 * as the rooms view knows them, then follows the log from that view's position through the
 * process's one log follower and applies each event's instructions.
 */
export const followLogIntoMedia = (
  plane: Pick<MediaPlaneService, "apply">,
  startup: Effect.Effect<LiveAtStart>,
  logger: Logger
) =>
  Effect.gen(function* () {
    const follower = yield* LogFollower
    const { position, live } = yield* startup
    const reopening = Date.now()
    yield* Effect.forEach(
      live,
      ({ spaceId, recording }) => plane.apply(MediaInstruction.SpaceStarted({ spaceId, recording })),
      { concurrency: REOPEN_CONCURRENCY, discard: true }
    )
    logger.info("media glue: rooms of the live Spaces reopened", {
      event: "media.rooms_reopened",
      rooms: live.length,
      ms: Date.now() - reopening
    })
    const apply = (r: RecordedEvent) =>
      Effect.gen(function* () {
        if (!r.streamId.startsWith("space-") || !MEDIA_EVENTS.has(r.type)) return
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return
        const instructions = yield* instructionsFor(decoded.right)
        yield* Effect.forEach(instructions, plane.apply, { discard: true })
      })
    yield* follower.follow(position).pipe(Stream.runForEach(apply))
  })
