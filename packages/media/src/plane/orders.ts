import type { SpaceId } from "@spaces/domain"
import { Deferred, Effect } from "effect"
import type { MediaInstruction } from "../instructions.js"
import type { LiveRoom, RoomLifecycle } from "./lifecycle.js"

/**
 * Carries out an order derived from a domain event on the rooms. Built lazily: an order's effect
 * acts on the rooms as they are when it runs (a retry, a replay). Idempotent, never fails.
 */
export const makeApply =
  (lifecycle: RoomLifecycle) =>
  (instruction: MediaInstruction): Effect.Effect<void> =>
    Effect.suspend(() => applyNow(lifecycle, instruction))

const applyNow = (lifecycle: RoomLifecycle, instruction: MediaInstruction): Effect.Effect<void> => {
  const { rooms, moves } = lifecycle
  const withRoom = (spaceId: SpaceId, f: (live: LiveRoom) => Effect.Effect<void>) => {
    const live = rooms.get(spaceId)
    return live === undefined ? Effect.void : f(live)
  }
  switch (instruction._tag) {
    case "SpaceStarted":
      // A room already waiting for a live worker (a replayed order) is left to that wait.
      if (moves.has(instruction.spaceId)) return Effect.void
      return lifecycle
        .openRoom(instruction.spaceId, instruction.recording)
        .pipe(
          Effect.catchAll((error) => lifecycle.openLater(instruction.spaceId, instruction.recording, error))
        )
    case "SpeakerMuted":
      return withRoom(instruction.spaceId, ({ room }) => room.setMuted(instruction.userId, true))
    case "SpeakerUnmuted":
      return withRoom(instruction.spaceId, ({ room }) => room.setMuted(instruction.userId, false))
    // Under the room's lock, like transport creation and producing: a transport or producer
    // being created while the order arrives is either refused by its own re-check of the
    // permission, or registered before this runs and closed by it.
    // The speaker's turn ends with them: their recorded track is complete.
    case "SpeakerRevoked":
      return withRoom(instruction.spaceId, (live) =>
        live.room.lock.withPermits(1)(
          Effect.sync(() => live.room.revokeSpeaker(instruction.userId)).pipe(
            Effect.zipRight(lifecycle.endTurn(live, instruction.userId))
          )
        )
      )
    case "ParticipantLeft":
    case "ParticipantRemoved":
      return withRoom(instruction.spaceId, (live) =>
        live.room.lock.withPermits(1)(
          Effect.sync(() => {
            live.room.closeTransportsOf(instruction.userId)
            // An edge (several nodes) drops the piped track at once, without waiting for the origin's word.
            live.room.pipedOf(instruction.userId)?.producer.close()
          }).pipe(Effect.zipRight(lifecycle.endTurn(live, instruction.userId)))
        )
      )
    case "SpaceEnded": {
      const move = moves.get(instruction.spaceId)
      if (move === undefined) return withRoom(instruction.spaceId, (live) => lifecycle.closeRoom(live))
      move.ended = true
      return Deferred.succeed(move.end, undefined).pipe(
        Effect.zipRight(withRoom(instruction.spaceId, (live) => lifecycle.closeRoom(live)))
      )
    }
    case "RecordingChanged": {
      const move = moves.get(instruction.spaceId)
      if (move !== undefined) move.recording = instruction.recording
      return withRoom(instruction.spaceId, (live) => lifecycle.setRecording(live, instruction.recording))
    }
  }
}
