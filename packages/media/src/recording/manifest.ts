/**
 * Where a Space's recording lives on disk and what its manifest.json says: shared by the recorder
 * (which writes them) and the HTTP port (which serves them for the replay).
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { SpaceId, UserId } from "@spaces/domain"
import { Effect, Option, Schema } from "effect"

/** The recorder names tracks `NNN-<userId>.opus`: nothing else in a recording directory is a track. */
export const TrackFileName = Schema.String.pipe(Schema.pattern(/^\d{3,}-[A-Za-z0-9_.:@-]+\.opus$/))

export const RecordedTrack = Schema.Struct({
  /** File name inside the Space's recording directory (Ogg Opus). */
  file: TrackFileName,
  userId: UserId,
  producerId: Schema.String,
  /** When the track's first packet arrived, in ms after the manifest's `startedAt`. */
  startOffsetMs: Schema.NullOr(Schema.Number),
  /** When the track ended (producer closed or recording stopped), in ms after `startedAt`. */
  endOffsetMs: Schema.NullOr(Schema.Number),
  /** Audio samples at 48 kHz in the file (silence filled in while muted). */
  samples: Schema.Number
}).annotations({ identifier: "RecordedTrack" })
export type RecordedTrack = typeof RecordedTrack.Type

/** manifest.json of a Space's recording: where each speaker track sits on the Space's timeline. */
export const RecordingManifest = Schema.Struct({
  spaceId: SpaceId,
  /** Wall-clock time (epoch ms) the recording first started; track offsets are relative to it. */
  startedAt: Schema.Number,
  tracks: Schema.Array(RecordedTrack)
}).annotations({ identifier: "RecordingManifest" })
export type RecordingManifest = typeof RecordingManifest.Type

/** The manifest is there but does not decode (hand-edited, or written by another version). */
export class RecordingUnreadable extends Schema.TaggedError<RecordingUnreadable>()("RecordingUnreadable", {
  spaceId: SpaceId,
  reason: Schema.String
}) {}

/**
 * The Space's directory under the recordings root. "." and ".." are valid Space ids but would name
 * the root or its parent, so their dots are escaped ("%" is not in the id alphabet: no collision).
 */
export const recordingDir = (root: string, spaceId: SpaceId): string =>
  join(root, spaceId === "." || spaceId === ".." ? spaceId.replaceAll(".", "%2E") : spaceId)

export const manifestPath = (root: string, spaceId: SpaceId): string =>
  join(recordingDir(root, spaceId), "manifest.json")

const decodeManifest = Schema.decodeUnknown(Schema.parseJson(RecordingManifest))

/** The Space's recording manifest, or none when the Space was never recorded. */
export const readRecordingManifest = (
  root: string,
  spaceId: SpaceId
): Effect.Effect<Option.Option<RecordingManifest>, RecordingUnreadable> =>
  Effect.tryPromise({
    try: () => readFile(manifestPath(root, spaceId), "utf8"),
    catch: (error) => error
  }).pipe(
    Effect.flatMap((text) => Effect.map(decodeManifest(text), Option.some)),
    Effect.catchAll((error) =>
      isMissingFile(error)
        ? Effect.succeed(Option.none())
        : Effect.fail(new RecordingUnreadable({ spaceId, reason: String(error) }))
    )
  )

const isMissingFile = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT"
