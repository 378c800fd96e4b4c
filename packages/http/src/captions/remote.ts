import { createSocket, type Socket } from "node:dgram"
import { isIPv6 } from "node:net"
import { SpaceId, UserId } from "@spaces/domain"
import {
  type AudioSourceService,
  type CaptionSinkService,
  MediaUnavailable,
  type ProducerInfo,
  RoomNotOpen,
  UnknownProducer
} from "@spaces/media"
import { Effect, Schema, Stream } from "effect"
import type { Logger } from "../log.js"

/** The server's API as the external transcriber uses it: a base URL and a service token. */
export interface SpacesApi {
  readonly call: (method: string, path: string, body?: unknown) => Promise<Response>
  /** Requests still running (tap closes), awaited on shutdown. */
  readonly settle: () => Promise<void>
  readonly track: (request: Promise<unknown>) => void
}

/** `token` is called at each request: a token file rotated by a sidecar is picked up. */
export const makeSpacesApi = (url: string, token: () => string): SpacesApi => {
  const pending = new Set<Promise<unknown>>()
  return {
    call: async (method, path, body) =>
      fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token()}`,
          ...(body === undefined ? {} : { "content-type": "application/json" })
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      }),
    track: (request) => {
      const settled: Promise<unknown> = request.then(
        (): unknown => pending.delete(settled),
        (): unknown => pending.delete(settled)
      )
      pending.add(settled)
    },
    settle: async () => {
      await Promise.all([...pending])
    }
  }
}

const CaptionedSpaces = Schema.Struct({
  spaces: Schema.Array(
    Schema.Struct({
      spaceId: SpaceId,
      startedAt: Schema.Number,
      producers: Schema.Array(
        Schema.Struct({ producerId: Schema.String, userId: UserId, paused: Schema.Boolean })
      )
    })
  )
})
export type CaptionedSpacesSnapshot = ReadonlyMap<
  SpaceId,
  { readonly startedAt: number; readonly producers: ReadonlyArray<ProducerInfo> }
>

/** `GET /v1/captions/spaces`: the live Spaces with captions on, with their producers. */
export const fetchCaptionedSpaces = (api: SpacesApi) =>
  Effect.tryPromise(async () => {
    const response = await api.call("GET", "/v1/captions/spaces")
    if (!response.ok)
      throw new Error(`GET /v1/captions/spaces answered ${response.status}: ${await response.text()}`)
    const { spaces } = Schema.decodeUnknownSync(CaptionedSpaces)(await response.json())
    const snapshot: CaptionedSpacesSnapshot = new Map(
      spaces.map((s) => [s.spaceId, { startedAt: s.startedAt, producers: s.producers }])
    )
    return snapshot
  })

const MediaTap = Schema.Struct({
  tapId: Schema.String,
  audioLevelExtensionId: Schema.NullOr(Schema.Number)
})

const bind = (socket: Socket, host: string) =>
  new Promise<number>((resolve, reject) => {
    socket.once("error", reject)
    socket.bind(0, host, () => {
      socket.off("error", reject)
      resolve(socket.address().port)
    })
  })

/**
 * A Space's audio through the server's media taps: each tapped producer's RTP arrives on a UDP
 * socket of this process bound on `host`. Producers come from the latest `GET /v1/captions/spaces`;
 * there are no room events, so the transcriber looks again every second.
 */
export const remoteAudioSource = (
  api: SpacesApi,
  host: string,
  latest: () => CaptionedSpacesSnapshot,
  logger: Logger
): AudioSourceService => ({
  producers: (spaceId) =>
    Effect.suspend(() => {
      const space = latest().get(spaceId)
      return space === undefined ? Effect.fail(new RoomNotOpen({ spaceId })) : Effect.succeed(space.producers)
    }),
  events: () => Stream.empty,
  tapAudio: (spaceId, producerId, { onRtp, onClose }) =>
    Effect.tryPromise({
      try: async () => {
        const socket = createSocket(isIPv6(host) ? "udp6" : "udp4")
        try {
          const port = await bind(socket, host)
          const response = await api.call("POST", `/v1/spaces/${spaceId}/media/taps`, {
            producerId,
            ip: host,
            port
          })
          if (!response.ok) throw { status: response.status, detail: await response.text() }
          const tap = Schema.decodeUnknownSync(MediaTap)(await response.json())
          socket.on("message", (packet) => onRtp(packet))
          let open = true
          const close = () => {
            if (!open) return
            open = false
            socket.close()
            api.track(
              api.call("DELETE", `/v1/spaces/${spaceId}/media/taps/${tap.tapId}`).catch(() => undefined)
            )
            logger.info("media tap closed", { event: "transcriber.untapped", spaceId, producerId })
            onClose()
          }
          logger.info("media tap opened", {
            event: "transcriber.tapped",
            spaceId,
            producerId,
            tapId: tap.tapId,
            port
          })
          return { audioLevelExtensionId: tap.audioLevelExtensionId ?? undefined, close }
        } catch (error) {
          socket.close()
          throw error
        }
      },
      catch: (error) => {
        const status =
          typeof error === "object" && error !== null && "status" in error ? error.status : undefined
        if (status === 404) return new UnknownProducer({ spaceId, producerId })
        if (status === 409) return new RoomNotOpen({ spaceId })
        return new MediaUnavailable({
          reason: `media tap refused: ${status === undefined ? String(error) : JSON.stringify(error)}`
        })
      }
    })
})

/** Captions over the API: finals as `AppendCaption` (`captions/segments`), partials to `captions/partials`. */
export const remoteCaptionSink = (api: SpacesApi, logger: Logger): CaptionSinkService => {
  const post = (spaceId: SpaceId, path: string, body: unknown, what: string) =>
    Effect.promise(async () => {
      try {
        const response = await api.call("POST", `/v1/spaces/${spaceId}/captions/${path}`, body)
        // Captions turned off, the speaker left, the Space ended meanwhile: the caption is dropped.
        if (!response.ok)
          logger.info(`${what} refused`, { spaceId, status: response.status, detail: await response.text() })
        else if (what === "caption segment")
          logger.info("caption appended", { event: "transcriber.final", spaceId })
      } catch (error) {
        logger.warn(`${what} not sent`, { spaceId, error: String(error) })
      }
    })
  return {
    partial: ({ spaceId, speaker, text, startMs }) =>
      post(spaceId, "partials", { speaker, text, startMs }, "partial caption"),
    final: ({ spaceId, speaker, text, startMs, endMs }) =>
      post(spaceId, "segments", { segment: { speaker, text, startMs, endMs } }, "caption segment")
  }
}
