import {
  decodeRecorded,
  EventStore,
  isSpaceStream,
  isSpeakingRole,
  type ReadError,
  type RecordedEvent,
  SpaceEvent,
  type SpaceEventOf,
  type SpaceEventTag,
  type SpaceId,
  Spaces,
  spaceEventsIn,
  spaceEventsWhere
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

/** The events that open, close or flag a room (the start-up scan decodes only these). */
const ROOM_LIFECYCLE: ReadonlySet<string> = spaceEventsIn({
  SpaceCreated: true,
  RecordingChanged: true,
  SpaceStarted: true,
  SpaceEnded: true,
  SpaceCancelled: true,
  SpaceExpired: true,
  SpaceRescheduled: false,
  SpaceEdited: false,
  SpeakPolicyChanged: false,
  CaptionsChanged: false,
  ReminderSet: false,
  ReminderRemoved: false,
  ListenerJoined: false,
  ParticipantLeft: false,
  HostLeft: false,
  HostReturned: false,
  HandRaised: false,
  HandLowered: false,
  SpeakRequestApproved: false,
  SpeakRequestDeclined: false,
  SpeakerInvited: false,
  SpeakerInviteAccepted: false,
  SpeakerInviteDeclined: false,
  CoHostInvited: false,
  CoHostInviteAccepted: false,
  CoHostInviteDeclined: false,
  CoHostRemoved: false,
  SteppedDown: false,
  SpeakerMuted: false,
  SpeakerUnmuted: false,
  AllSpeakersMuted: false,
  ParticipantRemoved: false,
  PostPublished: false,
  PostPinned: false,
  PostUnpinned: false,
  CaptionAppended: false
})

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
        if (!isSpaceStream(r.streamId) || !ROOM_LIFECYCLE.has(r.type)) return
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

type Orders<T extends SpaceEventTag> = (
  event: SpaceEventOf<T>
) => Effect.Effect<ReadonlyArray<MediaInstruction>, ReadError, Spaces>

const I = MediaInstruction
const spaceState = (spaceId: SpaceId) => Effect.flatMap(Spaces, (s) => s.space(spaceId))
const leaves = (e: SpaceEventOf<"ParticipantLeft" | "HostLeft">) =>
  Effect.succeed([I.ParticipantLeft({ spaceId: e.spaceId, userId: e.user })])
const ends = (e: SpaceEventOf<"SpaceEnded" | "SpaceCancelled" | "SpaceExpired">) =>
  Effect.succeed([I.SpaceEnded({ spaceId: e.spaceId })])

/**
 * The media plane's orders for each domain event (SPEC §3: the media plane obeys the domain), or
 * `null` when the event changes nothing of the media. Every event has its entry.
 */
const ORDERS: { readonly [T in SpaceEventTag]: Orders<T> | null } = {
  SpaceStarted: (e) =>
    Effect.map(spaceState(e.spaceId), (state) => [
      I.SpaceStarted({ spaceId: e.spaceId, recording: state.recording })
    ]),
  SpeakerMuted: (e) => Effect.succeed([I.SpeakerMuted({ spaceId: e.spaceId, userId: e.user })]),
  AllSpeakersMuted: (e) =>
    Effect.map(spaceState(e.spaceId), (state) =>
      [...HashMap.entries(state.participants)]
        .filter(([user, p]) => isSpeakingRole(p.role) && user !== state.host)
        .map(([userId]) => I.SpeakerMuted({ spaceId: e.spaceId, userId }))
    ),
  SpeakerUnmuted: (e) => Effect.succeed([I.SpeakerUnmuted({ spaceId: e.spaceId, userId: e.user })]),
  SteppedDown: (e) => Effect.succeed([I.SpeakerRevoked({ spaceId: e.spaceId, userId: e.user })]),
  ParticipantLeft: leaves,
  HostLeft: leaves,
  ParticipantRemoved: (e) => Effect.succeed([I.ParticipantRemoved({ spaceId: e.spaceId, userId: e.user })]),
  SpaceEnded: ends,
  SpaceCancelled: ends,
  SpaceExpired: ends,
  RecordingChanged: (e) =>
    Effect.succeed([I.RecordingChanged({ spaceId: e.spaceId, recording: e.recording })]),
  // A new speaker's first producer is checked against the domain when it is made.
  SpeakRequestApproved: null,
  SpeakerInviteAccepted: null,
  CoHostInviteAccepted: null,
  // Back to speaker, still on stage.
  CoHostRemoved: null,
  SpaceCreated: null,
  SpaceRescheduled: null,
  SpaceEdited: null,
  SpeakPolicyChanged: null,
  CaptionsChanged: null,
  ReminderSet: null,
  ReminderRemoved: null,
  ListenerJoined: null,
  HostReturned: null,
  HandRaised: null,
  HandLowered: null,
  SpeakRequestDeclined: null,
  SpeakerInvited: null,
  SpeakerInviteDeclined: null,
  CoHostInvited: null,
  CoHostInviteDeclined: null,
  PostPublished: null,
  PostPinned: null,
  PostUnpinned: null,
  CaptionAppended: null
}

/** Every event type that gives orders; the follower decodes only these. */
const MEDIA_EVENTS: ReadonlySet<string> = spaceEventsWhere<unknown>(ORDERS, (orders) => orders !== null)

/** The media plane's orders for one domain event (idempotent). */
export const instructionsFor = (
  event: SpaceEvent
): Effect.Effect<ReadonlyArray<MediaInstruction>, ReadError, Spaces> => {
  // The table gives each tag the orders of its own event type.
  const orders = ORDERS[event._tag] as Orders<SpaceEventTag> | null
  return orders === null ? Effect.succeed([]) : orders(event)
}

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
        if (!isSpaceStream(r.streamId) || !MEDIA_EVENTS.has(r.type)) return
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
