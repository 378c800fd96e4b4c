import { SpaceId, UserId } from "@spaces/domain"
import { MediaUnavailable, type MediaPlaneService } from "@spaces/media"
import { Effect, Schema } from "effect"
import { isIP } from "node:net"
import { type App, runWith } from "../app/context.js"
import { CAPTIONS_SCOPE, MEDIA_TAP_SCOPE } from "../auth/tokens.js"
import { fromMediaError, HttpProblem } from "../problems.js"
import type { Routes } from "./registry.js"

/*
 * What a transcriber running as its own process (`npm run transcriber`) needs of the server, all for
 * service identities only: which Spaces to transcribe, their speakers' audio as plain RTP, and a
 * way to put partial captions on the room's live stream. Finals go through `captions/segments`.
 */
const Id = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128))

export const CaptionedSpacesList = Schema.Struct({
  spaces: Schema.Array(
    Schema.Struct({
      spaceId: SpaceId,
      startedAt: Schema.Number.annotations({
        description: "When it went live (epoch ms): caption times count from it"
      }),
      producers: Schema.Array(
        Schema.Struct({ producerId: Schema.String, userId: UserId, paused: Schema.Boolean })
      )
    })
  )
}).annotations({ identifier: "CaptionedSpacesList" })

export const MediaTapBody = Schema.Struct({
  producerId: Id,
  ip: Schema.String.pipe(
    Schema.filter((ip) => isIP(ip) !== 0 || "an IPv4 or IPv6 address"),
    Schema.annotations({ description: "Where the server sends the RTP (the transcriber's UDP socket)" })
  ),
  port: Schema.Int.pipe(Schema.between(1, 65_535))
}).annotations({ identifier: "MediaTapBody" })

export const MediaTap = Schema.Struct({
  tapId: Schema.String,
  producerId: Schema.String,
  userId: UserId,
  ssrc: Schema.Number,
  payloadType: Schema.Number,
  audioLevelExtensionId: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "MediaTap" })

export const PartialCaptionBody = Schema.Struct({
  speaker: UserId,
  text: Schema.String.pipe(Schema.maxLength(2000)),
  startMs: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
}).annotations({ identifier: "PartialCaptionBody" })

const captionsOff = (spaceId: SpaceId) =>
  new HttpProblem(409, "captions-off", "Captions off", `Space ${spaceId} is not live with captions on`)

export const mountCaptionsService = (app: App, routes: Routes) => {
  const run = runWith(app)
  /**
   * Each service's tap of each producer: a new one replaces the old, so a transcriber that crashed
   * and restarted (and never sent its DELETEs) does not leave the server sending to dead sockets.
   */
  const tapsOf = new Map<string, string>()
  /** The other way round, to forget a tap when it is deleted (even once it ended by itself). */
  const keyOf = new Map<
    string,
    { readonly service: string; readonly spaceId: string; readonly key: string }
  >()
  const tapKey = (service: string, spaceId: string, producerId: string) =>
    JSON.stringify([service, spaceId, producerId])
  const withPlane = <A, E extends { readonly _tag: string; readonly message: string }>(
    use: (plane: MediaPlaneService) => Effect.Effect<A, E>
  ): Promise<A> => {
    const media = app.media
    return run<A, E | MediaUnavailable>(
      media.available
        ? use(media.plane)
        : Effect.fail(new MediaUnavailable({ reason: `this server runs without media: ${media.reason}` })),
      fromMediaError
    )
  }

  routes.add(
    {
      method: "get",
      path: "/v1/captions/spaces",
      summary: `The live Spaces with captions on and their speakers' producers (a service token with the ${CAPTIONS_SCOPE} scope)`,
      tag: "Captions",
      auth: { service: CAPTIONS_SCOPE },
      response: { status: 200, schema: CaptionedSpacesList },
      problems: [403]
    },
    async (_input, _req, res) => {
      const media = app.media
      const spaces = await Promise.all(
        app.captionedSpaces.list().map(async ({ spaceId, startedAt }) => ({
          spaceId,
          startedAt,
          producers: media.available
            ? await Effect.runPromise(media.plane.producers(spaceId).pipe(Effect.orElseSucceed(() => [])))
            : []
        }))
      )
      res.json({ spaces })
    }
  )

  routes.add(
    {
      method: "post",
      path: "/v1/spaces/:spaceId/media/taps",
      summary: `Receive one speaker's audio as plain RTP (Opus) at ip:port (a service token with the ${MEDIA_TAP_SCOPE} scope)`,
      tag: "Captions",
      auth: { service: MEDIA_TAP_SCOPE },
      params: { spaceId: SpaceId },
      body: MediaTapBody,
      bodyRequired: true,
      response: { status: 201, schema: MediaTap },
      problems: [403, 404, 409, 422]
    },
    async ({ who: service, params: { spaceId }, body: { producerId, ip, port } }, _req, res) => {
      const tap = await withPlane((plane) => plane.tapAudioTo(spaceId, producerId, { ip, port }))
      const key = tapKey(service, spaceId, producerId)
      const replaced = tapsOf.get(key)
      tapsOf.set(key, tap.tapId)
      keyOf.set(tap.tapId, { service, spaceId, key })
      if (replaced !== undefined) {
        keyOf.delete(replaced)
        if (app.media.available)
          await Effect.runPromise(Effect.ignore(app.media.plane.closeRemoteTap(spaceId, replaced)))
      }
      app.logger.info("media tap opened", { spaceId, service, tapId: tap.tapId, producerId, ip, port })
      res.status(201).json({ ...tap, audioLevelExtensionId: tap.audioLevelExtensionId ?? null })
    }
  )

  routes.add(
    {
      method: "delete",
      path: "/v1/spaces/:spaceId/media/taps/:tapId",
      summary: `Stop a media tap (a service token with the ${MEDIA_TAP_SCOPE} scope)`,
      tag: "Captions",
      auth: { service: MEDIA_TAP_SCOPE },
      params: { spaceId: SpaceId, tapId: Id },
      response: { status: 204 },
      problems: [403, 404]
    },
    async ({ who: service, params: { spaceId, tapId } }, _req, res) => {
      const known = keyOf.get(tapId)
      if (known !== undefined && known.service === service && known.spaceId === spaceId) {
        keyOf.delete(tapId)
        tapsOf.delete(known.key)
      }
      await withPlane((plane) => plane.closeRemoteTap(spaceId, tapId))
      res.status(204).end()
    }
  )

  routes.add(
    {
      method: "post",
      path: "/v1/spaces/:spaceId/captions/partials",
      summary: `Put a partial caption on the room's live stream, never stored (a service token with the ${CAPTIONS_SCOPE} scope)`,
      tag: "Captions",
      auth: { service: CAPTIONS_SCOPE },
      params: { spaceId: SpaceId },
      body: PartialCaptionBody,
      bodyRequired: true,
      response: { status: 202 },
      problems: [403, 409]
    },
    async ({ params: { spaceId }, body: { speaker, text, startMs } }, _req, res) => {
      if (!app.captionedSpaces.has(spaceId)) throw captionsOff(spaceId)
      await Effect.runPromise(app.captionPartials.publish({ spaceId, speaker, text, startMs }))
      res.status(202).end()
    }
  )
}
