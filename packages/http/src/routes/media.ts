import { SpaceId, type UserId } from "@spaces/domain"
import { type Caller, type MediaPlaneService, MediaUnavailable, type SignallingError } from "@spaces/media"
import { Effect, Schema } from "effect"
import type { types } from "mediasoup"
import { type App, runWith } from "../app/context.js"
import { fromMediaError } from "../problems.js"
import type { Input, ParamSchemas, RouteSpec, Routes } from "./registry.js"

/*
 * Signalling for mediasoup-client. The schemas check the shape of what the browser sends; mediasoup
 * checks the rest and its refusals become 422 problems (IncompatibleMedia).
 */
const Id = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(128))
const Params = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const Feedback = Schema.Struct({ type: Schema.String, parameter: Schema.optional(Schema.String) })

const DtlsParameters = Schema.Struct({
  role: Schema.optional(Schema.Literal("auto", "client", "server")),
  fingerprints: Schema.NonEmptyArray(
    Schema.Struct({
      algorithm: Schema.Literal("sha-1", "sha-224", "sha-256", "sha-384", "sha-512"),
      value: Schema.String.pipe(Schema.maxLength(200))
    })
  )
})
/** What a codec is, in both the parameters a sender uses and the capabilities a receiver has. */
const CodecFields = {
  mimeType: Schema.String,
  clockRate: Schema.Int,
  channels: Schema.optional(Schema.Int),
  parameters: Schema.optional(Params),
  rtcpFeedback: Schema.optional(Schema.Array(Feedback))
}
const RtpParameters = Schema.Struct({
  mid: Schema.optional(Schema.String),
  /** Sent by newer mediasoup-client releases; mediasoup 3.12 has no use for it (dropped below). */
  msid: Schema.optional(Schema.String),
  codecs: Schema.Array(Schema.Struct({ ...CodecFields, payloadType: Schema.Int })),
  headerExtensions: Schema.optional(
    Schema.Array(
      Schema.Struct({
        uri: Schema.String,
        id: Schema.Int,
        encrypt: Schema.optional(Schema.Boolean),
        parameters: Schema.optional(Params)
      })
    )
  ),
  encodings: Schema.optional(Schema.Array(Params)),
  rtcp: Schema.optional(
    Schema.Struct({
      cname: Schema.optional(Schema.String),
      reducedSize: Schema.optional(Schema.Boolean),
      mux: Schema.optional(Schema.Boolean)
    })
  )
})
const RtpCapabilities = Schema.Struct({
  codecs: Schema.optional(
    Schema.Array(
      Schema.Struct({
        ...CodecFields,
        kind: Schema.Literal("audio", "video"),
        preferredPayloadType: Schema.optional(Schema.Int)
      })
    )
  ),
  headerExtensions: Schema.optional(
    Schema.Array(
      Schema.Struct({
        kind: Schema.Literal("audio", "video"),
        uri: Schema.String,
        preferredId: Schema.Int,
        preferredEncrypt: Schema.optional(Schema.Boolean),
        direction: Schema.optional(Schema.Literal("sendrecv", "sendonly", "recvonly", "inactive"))
      })
    )
  )
})

export const CreateTransportBody = Schema.Struct({ direction: Schema.Literal("send", "recv") }).annotations({
  identifier: "CreateTransportBody"
})
export const ConnectTransportBody = Schema.Struct({ dtlsParameters: DtlsParameters }).annotations({
  identifier: "ConnectTransportBody"
})
export const ProduceBody = Schema.Struct({ transportId: Id, rtpParameters: RtpParameters }).annotations({
  identifier: "ProduceBody"
})
export const ConsumeBody = Schema.Struct({
  transportId: Id,
  producerId: Id,
  rtpCapabilities: RtpCapabilities
}).annotations({ identifier: "ConsumeBody" })

/*
 * The decoded shapes are mediasoup's own, minus its literal unions (URIs, MIME types) which mediasoup
 * validates itself: the one place the HTTP port hands mediasoup a structurally checked value.
 */
const asMediasoup = <T>(value: object): T => value as T

/** What varies between signalling routes: all act for a participant of the Space in the path. */
type SignalSpec = Omit<RouteSpec<"user">, "tag" | "auth" | "problems" | "params"> & {
  readonly params: { readonly spaceId: typeof SpaceId } & ParamSchemas
}

export const mountMedia = (app: App, routes: Routes) => {
  const run = runWith(app)
  const S = "/v1/spaces/:spaceId/media"
  const withPlane = <A>(
    {
      who: userId,
      params: { spaceId }
    }: { readonly who: UserId; readonly params: { readonly spaceId: SpaceId } },
    use: (plane: MediaPlaneService, caller: Caller) => Effect.Effect<A, SignallingError>
  ): Promise<A> => {
    const media = app.media
    const effect = media.available
      ? use(media.plane, { spaceId, userId })
      : Effect.fail(new MediaUnavailable({ reason: `this server runs without media: ${media.reason}` }))
    return run(
      effect.pipe(
        // The worker refused the client's own request: the client's mistake, not an incident.
        Effect.tapError((error) =>
          Effect.sync(() => {
            if (error._tag === "MediaRequestRejected")
              app.logger.info("media request refused by the worker (client mistake)", {
                spaceId,
                user: userId,
                reason: error.reason
              })
          })
        )
      ),
      fromMediaError
    )
  }
  /**
   * A signalling route: a participant's call on the room's media plane. The answer is the plane's
   * (204 with none); `use` gets the caller and the decoded request.
   */
  const signal = <const S extends SignalSpec>(
    spec: S,
    use: (
      plane: MediaPlaneService,
      caller: Caller,
      input: Input<S & { readonly auth: "user" }>
    ) => Effect.Effect<unknown, SignallingError>
  ) =>
    routes.add(
      { ...spec, tag: "Media", auth: "user", problems: [403, 404, 409, 422] },
      async (input, _req, res) => {
        const typed = input as unknown as Input<S & { readonly auth: "user" }>
        const answer = await withPlane(typed, (plane, caller) => use(plane, caller, typed))
        const status = spec.response.status
        if (status === 204) res.status(204).end()
        else res.status(status).json(answer)
      }
    )
  const InSpace = { spaceId: SpaceId }

  signal(
    {
      method: "get",
      path: `${S}/capabilities`,
      params: InSpace,
      summary: "The room router's RTP capabilities",
      response: { status: 200 }
    },
    (plane, caller) => Effect.map(plane.rtpCapabilities(caller), (rtpCapabilities) => ({ rtpCapabilities }))
  )
  signal(
    {
      method: "get",
      path: `${S}/producers`,
      params: InSpace,
      summary: "The room's current producers (to consume on joining)",
      response: { status: 200 }
    },
    (plane, caller) => plane.producersFor(caller)
  )
  signal(
    {
      method: "post",
      path: `${S}/transports`,
      params: InSpace,
      summary: "Create a WebRTC transport: send (speakers) or recv (participants)",
      body: CreateTransportBody,
      bodyRequired: true,
      response: { status: 201 }
    },
    (plane, caller, { body: { direction } }) => plane.createWebRtcTransport(caller, direction)
  )
  signal(
    {
      method: "post",
      path: `${S}/transports/:transportId/connect`,
      params: { ...InSpace, transportId: Id },
      summary: "Connect a transport with the client's DTLS parameters",
      body: ConnectTransportBody,
      bodyRequired: true,
      response: { status: 204 }
    },
    (plane, caller, { params: { transportId }, body: { dtlsParameters } }) =>
      plane
        .connectTransport(caller, transportId, {
          dtlsParameters: asMediasoup<types.DtlsParameters>(dtlsParameters)
        })
        .pipe(
          // A connected transport is a connection to the Space until it closes (presence); one
          // created and never connected carries nothing, so a tab that dies with it is not held.
          Effect.zipRight(app.presence.transportOpened(caller.spaceId, caller.userId, transportId))
        )
  )
  signal(
    {
      method: "post",
      path: `${S}/produce`,
      params: InSpace,
      summary: "Publish your audio track (speakers only; paused while muted)",
      body: ProduceBody,
      bodyRequired: true,
      response: { status: 201 }
    },
    (plane, caller, { body: { transportId, rtpParameters } }) => {
      const { msid: _unusedBy312, ...known } = rtpParameters
      return plane.produce(caller, transportId, asMediasoup<types.RtpParameters>(known))
    }
  )
  signal(
    {
      method: "post",
      path: `${S}/consume`,
      params: InSpace,
      summary: "Consume a producer on your receive transport (created paused)",
      body: ConsumeBody,
      bodyRequired: true,
      response: { status: 201 }
    },
    (plane, caller, { body: { transportId, producerId, rtpCapabilities } }) =>
      plane.consume(caller, transportId, producerId, asMediasoup<types.RtpCapabilities>(rtpCapabilities))
  )
  signal(
    {
      method: "post",
      path: `${S}/consumers/:consumerId/resume`,
      params: { ...InSpace, consumerId: Id },
      summary: "Resume a consumer: the client is ready for RTP",
      response: { status: 204 }
    },
    (plane, caller, { params: { consumerId } }) => plane.resumeConsumer(caller, consumerId)
  )
  signal(
    {
      method: "delete",
      path: `${S}/transports/:transportId`,
      params: { ...InSpace, transportId: Id },
      summary: "Close one of your transports",
      response: { status: 204 }
    },
    (plane, caller, { params: { transportId } }) =>
      Effect.zipRight(plane.closeTransport(caller, transportId), app.presence.transportClosed(transportId))
  )
}
