import { Schema } from "effect"

/** Opaque ids: the identity provider and the id generator are outside the domain. */
const opaqueId = <B extends string>(brand: B) =>
  Schema.String.pipe(
    Schema.trimmed(),
    Schema.minLength(1),
    Schema.maxLength(128),
    Schema.pattern(/^[A-Za-z0-9_.:@-]+$/, {
      message: () => `${brand} must be 1-128 of A-Z a-z 0-9 _ . : @ -`
    }),
    Schema.brand(brand)
  )

export const UserId = opaqueId("UserId")
export type UserId = typeof UserId.Type

export const SpaceId = opaqueId("SpaceId")
export type SpaceId = typeof SpaceId.Type

export const PostId = opaqueId("PostId")
export type PostId = typeof PostId.Type

/** A service (not a user) allowed to append caption segments: the transcription adapter. */
export const ServiceId = opaqueId("ServiceId")
export type ServiceId = typeof ServiceId.Type
