import {
  decodeRecorded,
  isSpaceStream,
  isSpeakingRole,
  LogFollower,
  type ReadError,
  type RecordedEvent,
  SpaceEvent,
  type SpaceEventOf,
  type SpaceEventTag,
  type SpaceId,
  Spaces,
  spaceEventsWhere
} from "@spaces/domain"
import { MediaInstruction, type MediaPlaneService } from "@spaces/media"
import { Effect, Either, HashMap, Stream } from "effect"
import type { Logger } from "../log.js"
import type { LiveAtStart } from "../startup/liveAtStart.js"

const decode = decodeRecorded(SpaceEvent)

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
        const decoded = decode(r)
        if (Either.isLeft(decoded)) return
        const instructions = yield* instructionsFor(decoded.right)
        yield* Effect.forEach(instructions, plane.apply, { discard: true })
      })
    // Filtered a chunk at a time: most of the log is none of these, and needs no effect each.
    yield* follower.follow(position).pipe(
      Stream.filter((r) => isSpaceStream(r.streamId) && MEDIA_EVENTS.has(r.type)),
      Stream.runForEach(apply)
    )
  })
