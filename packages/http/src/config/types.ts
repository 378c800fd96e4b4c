import type { RoomRules } from "@spaces/domain"
import type { EventStoreConfig } from "@spaces/eventstore"
import type { MediaConfig } from "@spaces/media"
import type { LogLevel } from "../log.js"

export interface AuthConfig {
  /** HS256 key for verifying (and, in development, issuing) tokens; absent in JWKS-only mode. */
  readonly secret: Uint8Array | undefined
  /** True when no secret was configured and one was generated for this process (tokens die with it). */
  readonly generatedSecret: boolean
  readonly jwksUrl: URL | undefined
  readonly issuer: string | undefined
  readonly audience: string | undefined
  /** Accept JWKS-verified tokens for any audience (explicit opt-out of the audience check). */
  readonly anyAudience: boolean
  /** `POST /v1/dev/token` is served. */
  readonly devTokens: boolean
  /** `POST /v1/dev/token` also mints service identities (`{service}`); asked for separately. */
  readonly devServiceTokens: boolean
  /** Lifetime of the tokens this server issues (development sign-in). */
  readonly tokenTtlSeconds: number
  /** Longest lifetime accepted for any token (`exp` − `iat`, or `exp` − now without `iat`). */
  readonly maxTokenLifetimeSeconds: number
  /** OpenID Connect sign-in for the web client; absent when not configured. */
  readonly oidc: OidcClientConfig | undefined
}

/** What the web client needs to sign in at the identity provider (all public values). */
export interface OidcClientConfig {
  readonly issuer: string
  readonly clientId: string
  readonly scopes: string
  /** RFC 8707 resource indicator sent with the authorization and token requests (the API's audience). */
  readonly resource: string | undefined
}

/**
 * How the process runs, from NODE_ENV: exactly `development` or `test` is a development run; unset
 * (or empty) is "unspecified"; any other value (`production`, `prod`, `Production`, `staging`, …) is
 * production, so a misspelt NODE_ENV never loosens anything.
 */
export type RunMode = "development" | "unspecified" | "production"

export const runModeOf = (nodeEnv: string | undefined): RunMode =>
  nodeEnv === undefined || nodeEnv === ""
    ? "unspecified"
    : nodeEnv === "development" || nodeEnv === "test"
      ? "development"
      : "production"

/** The key that signs recording track URLs (they must verify on every node and after a restart). */
export interface RecordingUrlConfig {
  readonly secret: Uint8Array
  /** True when neither SPACES_RECORDING_URL_SECRET nor SPACES_JWT_SECRET was set: URLs die with the process. */
  readonly generatedSecret: boolean
}

/** Web Push: the server's VAPID identity (RFC 8292), if configured; without it nothing is pushed. */
export interface PushConfig {
  readonly vapid:
    | { readonly publicKey: string; readonly privateKey: string; readonly subject: string }
    | undefined
  /** Accept `http:` push endpoints (a push service on loopback in tests); otherwise `https:` only. */
  readonly allowInsecureEndpoints: boolean
}
/** The transcriber's engine (SPACES_CAPTIONS_*): the embedded default, a Whisper-compatible server, or none. */
export type CaptionsConfig =
  | { readonly engine: "off" }
  /** Transcribed by `npm run transcriber` elsewhere, through the media tap and caption routes. */
  | { readonly engine: "external"; readonly serviceId: string }
  | {
      readonly engine: "pocketsphinx"
      readonly serviceId: string
      readonly decoders: number
      readonly modelDir: string | undefined
    }
  | {
      readonly engine: "whisper"
      readonly serviceId: string
      readonly url: string
      readonly model: string
      readonly apiKey: string | undefined
      readonly language: string | undefined
      readonly maxInFlight: number
    }

/** An engine this process runs (the server's own transcriber, or `npm run transcriber`). */
export type EngineConfig = Extract<CaptionsConfig, { engine: "pocketsphinx" | "whisper" }>

export interface ServerConfig {
  readonly port: number
  readonly host: string
  /** NODE_ENV is set to anything but `development`/`test` (see `runModeOf`). */
  readonly production: boolean
  readonly runMode: RunMode
  readonly store: EventStoreConfig
  readonly rules: RoomRules
  /** Where the projections keep their views and checkpoints. */
  readonly views: { readonly kind: "sqlite"; readonly path: string } | { readonly kind: "memory" }
  readonly auth: AuthConfig
  readonly recordingUrls: RecordingUrlConfig
  readonly push: PushConfig
  /** Audiences from this size on are merged at read time instead of written to each member. */
  readonly notificationsFanOutThreshold: number
  /**
   * Under a burst, how long the log follower and the projections let commits gather after a
   * delivery at the log's end (ms; 0: none): throughput against how soon views and live streams
   * show a write.
   */
  readonly liveBatchMs: number
  readonly media: { readonly mode: "auto" | "on" | "off"; readonly options: Partial<MediaConfig> }
  readonly captions: CaptionsConfig
  readonly rateLimit: { readonly perSecond: number; readonly burst: number }
  /** Failed authentications one client address may make per minute before it is answered 429. */
  readonly authFailuresPerMinute: number
  /** Express `trust proxy`: whose X-Forwarded-For names the client address (false: nobody's). */
  readonly trustProxy: TrustProxy
  /** Open Server-Sent Events streams: per user, and for the whole process. */
  readonly sse: { readonly maxPerUser: number; readonly maxTotal: number; readonly replayMax: number }
  /** Posts one user may publish in one Space per minute (and at once). */
  readonly postsPerMinute: number
  /** Where /metrics is served: see `OpsConfig`. */
  readonly ops: OpsConfig
  readonly maxBodyBytes: number
  /** Serve the web client at `/`. */
  readonly webClient: boolean
  readonly logLevel: LogLevel
  /** /readyz fails while a projection runner is more than this many events behind the log. */
  readonly readyMaxLagEvents: number
  /** How often due system commands (expiry, host grace) are looked up and issued. */
  /** How long shutdown waits for in-flight requests before closing connections. */
  readonly shutdownGraceMs: number
  /** Presence: how long all of a participant's connections may be gone before the system leaves them. */
  readonly presence: { readonly disconnectGraceMs: number }
  /** Several nodes: the broker of the ephemeral plane (none: this process alone) and this node's id. */
  readonly cluster: ClusterConfig
}

/** See README "Running several nodes". */
export interface ClusterConfig {
  /** `redis://` / `rediss://` URL of the broker; undefined: one node, the in-process plane. */
  readonly redisUrl: string | undefined
  /** Unique per process start (the default adds the pid and a random suffix to the host name). */
  readonly nodeId: string
}

/** Express's `trust proxy` values: a boolean, a hop count, or addresses/subnets (and loopback etc.). */
export type TrustProxy = boolean | number | ReadonlyArray<string>

/**
 * /metrics: on the main port it answers only loopback clients, or anyone with the bearer token
 * (`metricsToken`); with `port` set it moves to its own port (with /healthz and /readyz), bound to
 * `host`, and the main port no longer serves it.
 */
export interface OpsConfig {
  readonly port: number | undefined
  readonly host: string
  readonly metricsToken: string | undefined
}

export class ConfigInvalid extends Error {
  override readonly name = "ConfigInvalid"
}
