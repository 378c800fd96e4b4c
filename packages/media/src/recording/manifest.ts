/**
 * Where a Space's recording lives on disk and what its manifest.json says: shared by the recorder
 * (which writes them) and the HTTP port (which serves them for the replay).
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { SpaceId, UserId } from "@spaces/domain"
import { Effect, Option, Schema, type Types } from "effect"

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

/** The manifest of recordings made before the journal: one JSON document, rewritten on every change. */
export const manifestPath = (root: string, spaceId: SpaceId): string =>
  join(recordingDir(root, spaceId), "manifest.json")

/** The manifest as a journal: one JSON line per change, only ever appended to. */
export const journalPath = (root: string, spaceId: SpaceId): string =>
  join(recordingDir(root, spaceId), "manifest.jsonl")

/** One line of the journal. */
export const JournalEntry = Schema.Union(
  Schema.Struct({ kind: Schema.Literal("recording"), spaceId: SpaceId, startedAt: Schema.Number }),
  /** A speaker turn began: its track file. */
  Schema.Struct({
    kind: Schema.Literal("track"),
    file: TrackFileName,
    userId: UserId,
    producerId: Schema.String
  }),
  /** The track's first packet arrived. */
  Schema.Struct({ kind: Schema.Literal("started"), file: TrackFileName, startOffsetMs: Schema.Number }),
  /** The turn ended (speaker rights revoked, left, recording stopped): the file is complete. */
  Schema.Struct({
    kind: Schema.Literal("ended"),
    file: TrackFileName,
    endOffsetMs: Schema.Number,
    samples: Schema.Number
  })
)
export type JournalEntry = typeof JournalEntry.Type

const decodeEntry = Schema.decodeUnknownSync(Schema.parseJson(JournalEntry))

/**
 * The manifest a journal describes. A last line cut short by a crash is ignored; any other line
 * that does not decode makes the journal unreadable.
 */
export const foldJournal = (text: string): RecordingManifest | undefined => {
  const lines = text.split("\n").filter((line) => line.trim() !== "")
  let manifest:
    | { spaceId: SpaceId; startedAt: number; tracks: Array<Types.Mutable<RecordedTrack>> }
    | undefined
  for (const [i, line] of lines.entries()) {
    let entry: JournalEntry
    try {
      entry = decodeEntry(line)
    } catch (error) {
      if (i === lines.length - 1 && !text.endsWith("\n")) break
      throw error
    }
    if (entry.kind === "recording") {
      manifest ??= { spaceId: entry.spaceId, startedAt: entry.startedAt, tracks: [] }
      continue
    }
    if (manifest === undefined) throw new Error("the journal does not start with its recording line")
    if (entry.kind === "track") {
      manifest.tracks.push({
        file: entry.file,
        userId: entry.userId,
        producerId: entry.producerId,
        startOffsetMs: null,
        endOffsetMs: null,
        samples: 0
      })
      continue
    }
    const track = manifest.tracks.find((t) => t.file === entry.file)
    if (track === undefined) throw new Error(`the journal names an unknown track ${entry.file}`)
    if (entry.kind === "started") track.startOffsetMs = entry.startOffsetMs
    else {
      track.endOffsetMs = entry.endOffsetMs
      track.samples = entry.samples
    }
  }
  return manifest
}

const decodeManifest = Schema.decodeUnknown(Schema.parseJson(RecordingManifest))

const readText = (path: string) =>
  Effect.tryPromise({ try: () => readFile(path, "utf8"), catch: (error) => error })

/** The Space's recording manifest (from its journal, or an older manifest.json), or none when never recorded. */
export const readRecordingManifest = (
  root: string,
  spaceId: SpaceId
): Effect.Effect<Option.Option<RecordingManifest>, RecordingUnreadable> =>
  readText(journalPath(root, spaceId)).pipe(
    Effect.flatMap((text) =>
      Effect.try({ try: () => Option.fromNullable(foldJournal(text)), catch: (error) => error })
    ),
    Effect.catchIf(isMissingFile, () =>
      readText(manifestPath(root, spaceId)).pipe(
        Effect.flatMap((text) => Effect.map(decodeManifest(text), Option.some))
      )
    ),
    Effect.catchAll((error) =>
      isMissingFile(error)
        ? Effect.succeed(Option.none())
        : Effect.fail(new RecordingUnreadable({ spaceId, reason: String(error) }))
    )
  )

const isMissingFile = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT"
