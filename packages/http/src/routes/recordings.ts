/**
 * Recordings for the replay (SPEC §3): a recorded Space's manifest and its per-speaker Ogg Opus
 * tracks, read from the media plane's recordings directory (served even when this server runs
 * without media: the files outlive the rooms).
 *
 * Who may fetch: like the history routes, any signed-in user, for any Space that was recorded
 * (a live Space's recording is readable while it grows). An `<audio>` element can't send a bearer
 * token, so the manifest gives each track a signed URL (HMAC of Space, file and expiry) that the
 * track route accepts in place of the token, until it expires. The signing key is shared by every
 * node (SPACES_RECORDING_URL_SECRET, else SPACES_JWT_SECRET).
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { SpaceId } from "@spaces/domain"
import {
  mediaConfig,
  RecordedTrack,
  type RecordingManifest,
  type RecordingUnreadable,
  readRecordingManifest,
  recordingDir,
  TrackFileName
} from "@spaces/media"
import { Effect, Option, Schema } from "effect"
import type { Response } from "express"
import { type App, runWith } from "../app/context.js"
import { HttpProblem, problems } from "../problems.js"
import type { Routes } from "./registry.js"

/** How long a track URL from the manifest works: a long replay session, not a permanent link. */
const SIGNED_URL_TTL_SECONDS = 6 * 3600
const SAMPLES_PER_MS = 48

export const RecordingTrackView = Schema.Struct({
  ...RecordedTrack.fields,
  /** Length of the audio in the file (silence while muted included). */
  durationMs: Schema.Number,
  /** Where to fetch the track (audio/ogg, Range requests welcome) without a bearer token. */
  url: Schema.String
}).annotations({ identifier: "RecordingTrack" })

export const RecordingView = Schema.Struct({
  spaceId: SpaceId,
  /** Wall-clock time (epoch ms) the recording started; each track's offsets are relative to it. */
  startedAt: Schema.Number,
  tracks: Schema.Array(RecordingTrackView),
  /** When the tracks' signed URLs stop working (epoch ms): fetch the manifest again after that. */
  urlsExpireAt: Schema.Number
}).annotations({ identifier: "Recording" })

/** The signed-URL members, as the manifest's track URLs carry them (absent with a bearer token). */
const TrackQuery = Schema.Struct({
  expires: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()).annotations({
      description: "When the signed URL expires (epoch seconds)"
    })
  ),
  signature: Schema.optional(
    Schema.String.pipe(Schema.maxLength(128)).annotations({ description: "The signed URL's signature" })
  )
})

const encodeView = Schema.encodeSync(RecordingView)

const notRecorded = (spaceId: SpaceId) =>
  new HttpProblem(404, "recording-not-found", "Recording not found", `Space ${spaceId} has no recording`, {
    spaceId
  })

const unreadable = (error: RecordingUnreadable) =>
  new HttpProblem(
    500,
    "recording-unreadable",
    "Recording unreadable",
    "the recording's manifest is damaged",
    {
      spaceId: error.spaceId
    }
  )

/**
 * Signs and checks track URLs with a key derived from the configured secret (`recordingUrls`):
 * every node shares it, so a URL signed by one works on all of them and after a restart.
 */
export const makeUrlSigner = (secret: Uint8Array) => {
  // A derived key: with the token secret as the fallback, no URL signature is a MAC under it.
  const key = createHmac("sha256", secret).update("spaces/recording-track-urls").digest()
  const sign = (spaceId: string, file: string, expires: number) =>
    createHmac("sha256", key).update(`${spaceId}\n${file}\n${expires}`).digest("base64url")
  const verify = (spaceId: string, file: string, expires: number, signature: string) => {
    const expected = Buffer.from(sign(spaceId, file, expires))
    const given = Buffer.from(signature)
    return expires * 1000 > Date.now() && expected.length === given.length && timingSafeEqual(expected, given)
  }
  return { sign, verify }
}

/** The unsatisfied-range `Content-Range` (the file's size) that `send` computed for a 416. */
const unsatisfiedRange = (error: object): Record<string, string> => {
  const headers = "headers" in error ? error.headers : undefined
  const range =
    typeof headers === "object" && headers !== null && "Content-Range" in headers
      ? headers["Content-Range"]
      : undefined
  return typeof range === "string" ? { "content-range": range } : {}
}

/** Streams a track; `send` answers Range requests (206, or 416 when unsatisfiable) and HEAD. */
const sendTrack = (res: Response, dir: string, file: string) =>
  new Promise<void>((resolve, reject) => {
    res.type("audio/ogg")
    res.sendFile(file, { root: dir, dotfiles: "deny" }, (error: unknown) => {
      // A client that went away mid-stream (a seek does that) is no error of ours.
      if (error === undefined || error === null || res.headersSent) return resolve()
      const status = typeof error === "object" && "status" in error ? error.status : undefined
      // RFC 9110 §15.5.17: a 416 tells the client the file's current length.
      if (status === 416 && typeof error === "object")
        return reject(
          new HttpProblem(
            416,
            "range-not-satisfiable",
            "Range not satisfiable",
            "the range is past the file's end",
            {},
            unsatisfiedRange(error)
          )
        )
      reject(status === 404 ? problems.notFound("the track file is missing") : error)
    })
  })

export const mountRecordings = (app: App, routes: Routes) => {
  const run = runWith(app)
  const root = mediaConfig(app.config.media.options).recordingsDir
  const urls = makeUrlSigner(app.config.recordingUrls.secret)

  const manifestOf = (spaceId: SpaceId): Promise<RecordingManifest> =>
    run(
      readRecordingManifest(root, spaceId).pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.fail(notRecorded(spaceId)), onSome: Effect.succeed })
        )
      ),
      (error) => (error instanceof HttpProblem ? error : unreadable(error))
    )

  /** Without a user's token (the registry checked one that was sent), a still-valid signed URL. */
  const authorise = (spaceId: SpaceId, file: string, query: typeof TrackQuery.Type) => {
    const { expires, signature } = query
    if (signature === undefined || expires === undefined)
      throw problems.unauthorized("a bearer token is required")
    if (!urls.verify(spaceId, file, expires, signature))
      throw problems.forbidden(
        "recording-url-invalid",
        "the track URL expired or is not valid: fetch the manifest again"
      )
  }

  const path = "/v1/spaces/:spaceId/recording"
  routes.add(
    {
      method: "get",
      path,
      summary:
        "The Space's recording: per-speaker tracks with their offsets on the Space's timeline, and signed URLs to play them",
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      response: { status: 200, schema: RecordingView },
      problems: [404]
    },
    async ({ params: { spaceId } }, _req, res) => {
      const manifest = await manifestOf(spaceId)
      const expires = Math.floor(Date.now() / 1000) + SIGNED_URL_TTL_SECONDS
      const base = `/v1/spaces/${encodeURIComponent(spaceId)}/recording/tracks/`
      res.json(
        encodeView({
          spaceId: manifest.spaceId,
          startedAt: manifest.startedAt,
          urlsExpireAt: expires * 1000,
          tracks: manifest.tracks.map((track) => ({
            ...track,
            durationMs: Math.round(track.samples / SAMPLES_PER_MS),
            url: `${base}${encodeURIComponent(track.file)}?expires=${expires}&signature=${urls.sign(spaceId, track.file, expires)}`
          }))
        })
      )
    }
  )
  routes.add(
    {
      method: "get",
      path: `${path}/tracks/:file`,
      summary:
        "One track of the recording as Ogg Opus (Range requests answered 206): with a bearer token, or by the signed URL the manifest gives",
      tag: "History",
      auth: "user-or-signed-url",
      params: { spaceId: SpaceId, file: TrackFileName },
      query: TrackQuery,
      response: {
        status: 200,
        contentType: "audio/ogg",
        description: "The track (206 Partial Content for a Range request)"
      },
      problems: [403, 404, 416]
    },
    async ({ who, params: { spaceId, file }, query }, _req, res) => {
      if (who === undefined) authorise(spaceId, file, query)
      const manifest = await manifestOf(spaceId)
      // Only files the manifest lists are served: a name is never a path.
      if (!manifest.tracks.some((track) => track.file === file))
        throw new HttpProblem(
          404,
          "recording-track-not-found",
          "Recording track not found",
          `the recording of Space ${spaceId} has no track ${file}`,
          { spaceId, file }
        )
      await sendTrack(res, recordingDir(root, spaceId), file)
    }
  )
}
