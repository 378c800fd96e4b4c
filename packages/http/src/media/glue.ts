import {
  decodeRecorded,
  EventStore,
  isSpeakingRole,
  type RecordedEvent,
  SpaceEvent,
  type SpaceEventTag,
  type SpaceId,
  Spaces
} from "@spaces/domain"
import { MediaInstruction, type MediaPlaneService } from "@spaces/media"
import { Effect, Either, HashMap, Schedule, Stream } from "effect"
import type { Logger } from "../log.js"

const decode = decodeRecorded(SpaceEvent)

/** What the log says at startup: where it ends and which Spaces are live (with their recording flag). */
export interface LogScan {
  readonly head: number
  readonly live: ReadonlyMap<SpaceId, boolean>
}

const ROOM_LIFECYCLE = new Set<string>([
  "SpaceCreated",
  "RecordingChanged",
  "SpaceStarted",
  "SpaceEnded",
  "SpaceCancelled",
  "SpaceExpired"
])

/** One pass over the log at startup (the log is the source of truth for which rooms must be open). */
export const scanLog = Effect.gen(function* () {
  const store = yield* EventStore
  const recording = new Map<SpaceId, boolean>()
  const live = new Map<SpaceId, boolean>()
  let head = 0
  yield* store.readAll(0).pipe(
    Stream.runForEach((r) =>
      Effect.sync(() => {
        head = r.position
        // Only the events that open, close or flag a room are decoded: startup reads the whole log.
        if (!r.streamId.startsWith("space-") || !ROOM_LIFECYCLE.has(r.type)) return
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return
        const e = decoded.right
        switch (e._tag) {
          case "SpaceCreated":
            recording.set(e.spaceId, e.recording)
            break
          case "RecordingChanged":
            recording.set(e.spaceId, e.recording)
            if (live.has(e.spaceId)) live.set(e.spaceId, e.recording)
            break
          case "SpaceStarted":
            live.set(e.spaceId, recording.get(e.spaceId) ?? false)
            break
          case "SpaceEnded":
          case "SpaceCancelled":
          case "SpaceExpired":
            live.delete(e.spaceId)
            recording.delete(e.spaceId)
        }
      })
    )
  )
  return { head, live } satisfies LogScan
})

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

/**
 * Follows the log from the startup scan's head and applies each event's instructions. Rooms of
 * Spaces already live are opened first (after a restart the media plane starts empty).
 */
export const followLogIntoMedia = (plane: Pick<MediaPlaneService, "apply">, scan: LogScan, logger: Logger) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    for (const [spaceId, recording] of scan.live)
      yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId, recording }))
    let from = scan.head
    const apply = (r: RecordedEvent) =>
      Effect.gen(function* () {
        from = r.position
        if (!r.streamId.startsWith("space-") || !MEDIA_EVENTS.has(r.type)) return
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return
        const instructions = yield* instructionsFor(decoded.right)
        yield* Effect.forEach(instructions, plane.apply, { discard: true })
      })
    yield* Effect.suspend(() => store.subscribeAll(from).pipe(Stream.runForEach(apply))).pipe(
      Effect.tapError((error) =>
        Effect.sync(() =>
          logger.warn("media glue: log subscription failed; resubscribing", { error: String(error) })
        )
      ),
      Effect.retry(Schedule.spaced("1 second"))
    )
  })
