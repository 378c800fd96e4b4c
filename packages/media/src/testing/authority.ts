import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, Layer } from "effect"
import { type MediaPermission, SpeakerAuthority } from "../authority.js"

const nobody: MediaPermission = { mayListen: false, mayProduce: false, muted: false }

/** A SpeakerAuthority whose answers a test sets directly (the domain's state stand-in). */
export const testAuthority = () => {
  const permissions = new Map<string, MediaPermission>()
  const key = (spaceId: SpaceId, userId: UserId) => `${spaceId}/${userId}`
  return {
    layer: Layer.succeed(SpeakerAuthority, {
      permission: (spaceId, userId) => Effect.sync(() => permissions.get(key(spaceId, userId)) ?? nobody)
    }),
    set: (spaceId: SpaceId, userId: UserId, permission: Partial<MediaPermission>) =>
      permissions.set(key(spaceId, userId), { ...nobody, mayListen: true, ...permission }),
    speaker: (spaceId: SpaceId, userId: UserId, muted = false) =>
      permissions.set(key(spaceId, userId), { mayListen: true, mayProduce: true, muted }),
    listener: (spaceId: SpaceId, userId: UserId) =>
      permissions.set(key(spaceId, userId), { mayListen: true, mayProduce: false, muted: false }),
    remove: (spaceId: SpaceId, userId: UserId) => permissions.delete(key(spaceId, userId))
  }
}
