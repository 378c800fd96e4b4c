import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, Layer } from "effect"
import { type MediaPermission, SpeakerAuthority } from "../authority.js"

const nobody: MediaPermission = { mayListen: false, mayProduce: false, muted: false }

/** A SpeakerAuthority whose answers a test sets directly (the domain's state stand-in). */
export const testAuthority = () => {
  const permissions = new Map<string, MediaPermission>()
  const key = (spaceId: SpaceId, userId: UserId) => `${spaceId}/${userId}`
  const self = {
    /** Called after each answer (a test's hook to change the state in the middle of an operation). */
    afterAnswer: undefined as ((spaceId: SpaceId, userId: UserId) => void) | undefined,
    layer: Layer.succeed(SpeakerAuthority, {
      permission: (spaceId, userId) =>
        Effect.sync(() => {
          const answer = permissions.get(key(spaceId, userId)) ?? nobody
          self.afterAnswer?.(spaceId, userId)
          return answer
        })
    }),
    set: (spaceId: SpaceId, userId: UserId, permission: Partial<MediaPermission>) =>
      permissions.set(key(spaceId, userId), { ...nobody, mayListen: true, ...permission }),
    speaker: (spaceId: SpaceId, userId: UserId, muted = false) =>
      permissions.set(key(spaceId, userId), { mayListen: true, mayProduce: true, muted }),
    listener: (spaceId: SpaceId, userId: UserId) =>
      permissions.set(key(spaceId, userId), { mayListen: true, mayProduce: false, muted: false }),
    remove: (spaceId: SpaceId, userId: UserId) => permissions.delete(key(spaceId, userId))
  }
  return self
}
