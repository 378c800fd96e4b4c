import { Schema } from "effect"
import { PostId, ServiceId, SpaceId, UserId } from "../ids.js"

/** Who may request to speak: anyone, people the host follows, or nobody (invitations only). */
export const SpeakPolicy = Schema.Literal("everyone", "followed", "invited")
export type SpeakPolicy = typeof SpeakPolicy.Type

export const Role = Schema.Literal("host", "cohost", "speaker", "listener")
export type Role = typeof Role.Type

/** Milliseconds since the epoch. */
export const Timestamp = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

/** Titles are validated against the rules (length, control characters) by `decide`. */
export const Title = Schema.String
/** Topics are checked against the catalogue by `decide`, case-insensitively. */
export const Topics = Schema.Array(Schema.String)

export const PostText = Schema.String

export const CaptionSegment = Schema.Struct({
  speaker: UserId,
  text: Schema.String,
  startMs: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  endMs: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
})
export type CaptionSegment = typeof CaptionSegment.Type

export { PostId, ServiceId, SpaceId, UserId }
