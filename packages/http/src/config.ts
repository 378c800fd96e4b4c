import { randomBytes } from "node:crypto"
import { isIP } from "node:net"
import { availableParallelism, hostname } from "node:os"
import { defaultRoomRules, RoomRules } from "@spaces/domain"
import { type EventStoreConfig, eventStoreConfig } from "@spaces/eventstore"
import type { MediaConfig } from "@spaces/media"
import { viewsPathBeside } from "@spaces/projections"
import { ConfigProvider, Effect, Either, ParseResult, Schema } from "effect"
import type { LogLevel } from "./log.js"

/**
 * The server's configuration, decoded from environment variables with a Schema. A bad value fails
 * fast with a message that names the variable; every variable has a default that makes the
 * embedded setup (SQLite file, in-process projections, local media workers) work out of the box.
 */
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

const Int = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))
const Bool = Schema.transformLiterals(
  ["true", true],
  ["1", true],
  ["yes", true],
  ["false", false],
  ["0", false],
  ["no", false]
)
const Text = Schema.String.pipe(Schema.minLength(1))

/** Every variable the server reads (besides the event store's own, which its package decodes). */
const Env = Schema.Struct({
  NODE_ENV: Schema.optional(Schema.String),
  PORT: Schema.optionalWith(Int(0, 65_535), { default: () => 8080 }),
  HOST: Schema.optionalWith(Text, { default: () => "0.0.0.0" }),
  SPACES_LOG_LEVEL: Schema.optionalWith(Schema.Literal("debug", "info", "warn", "error", "silent"), {
    default: () => "info" as const
  }),
  SPACES_VIEWS_PATH: Schema.optional(Text),
  // Rules (SPEC's "(config)" numbers)
  SPACES_MAX_SPEAKERS: Schema.optional(Int(1, 100)),
  SPACES_MAX_COHOSTS: Schema.optional(Int(0, 10)),
  SPACES_MAX_LISTENERS: Schema.optional(Int(1, 100_000_000)),
  SPACES_MIN_FOLLOWERS_TO_HOST: Schema.optional(Int(0, 100_000_000)),
  SPACES_HOST_GRACE_SECONDS: Schema.optional(Int(1, 86_400)),
  SPACES_SCHEDULED_EXPIRY_SECONDS: Schema.optional(Int(1, 30 * 86_400)),
  SPACES_TOPICS: Schema.optional(Text),
  // Auth
  SPACES_JWT_SECRET: Schema.optional(Schema.String.pipe(Schema.minLength(32))),
  SPACES_JWKS_URL: Schema.optional(Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/))),
  SPACES_JWT_ISSUER: Schema.optional(Text),
  SPACES_JWT_AUDIENCE: Schema.optional(Text),
  SPACES_JWT_ANY_AUDIENCE: Schema.optionalWith(Bool, { default: () => false }),
  SPACES_DEV_AUTH: Schema.optional(Bool),
  SPACES_DEV_AUTH_SERVICES: Schema.optionalWith(Bool, { default: () => false }),
  SPACES_TOKEN_TTL_SECONDS: Schema.optional(Int(60, 30 * 86_400)),
  SPACES_TOKEN_MAX_LIFETIME_SECONDS: Schema.optionalWith(Int(60, 30 * 86_400), { default: () => 86_400 }),
  SPACES_OIDC_ISSUER: Schema.optional(Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/))),
  SPACES_OIDC_CLIENT_ID: Schema.optional(Text),
  SPACES_OIDC_SCOPES: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^\S+( \S+)*$/)), {
    default: () => "openid profile offline_access"
  }),
  SPACES_OIDC_RESOURCE: Schema.optional(Text),
  // Media
  SPACES_MEDIA: Schema.optionalWith(Schema.Literal("auto", "on", "off"), { default: () => "auto" as const }),
  SPACES_MEDIA_WORKERS: Schema.optional(Int(1, 256)),
  SPACES_MEDIA_LISTEN_IP: Schema.optional(Text),
  SPACES_MEDIA_ANNOUNCED_IP: Schema.optional(Text),
  SPACES_MEDIA_PIPE_LISTEN_IP: Schema.optional(Text),
  SPACES_MEDIA_PIPE_ANNOUNCED_IP: Schema.optional(Text),
  SPACES_MEDIA_MIN_PORT: Schema.optional(Int(1024, 65_535)),
  SPACES_MEDIA_MAX_PORT: Schema.optional(Int(1024, 65_535)),
  SPACES_MEDIA_MAX_TRANSPORTS_PER_USER: Schema.optional(Int(2, 100)),
  SPACES_MEDIA_MAX_PRODUCERS_PER_TRANSPORT: Schema.optional(Int(1, 100)),
  SPACES_MEDIA_MAX_CONSUMERS_PER_USER: Schema.optional(Int(1, 10_000)),
  SPACES_RECORDINGS_DIR: Schema.optional(Text),
  SPACES_RECORDING_URL_SECRET: Schema.optional(Schema.String.pipe(Schema.minLength(32))),
  // Web Push (`npx web-push generate-vapid-keys`): base64url P-256 keys
  SPACES_VAPID_PUBLIC_KEY: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{87}=?$/))),
  SPACES_VAPID_PRIVATE_KEY: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{43}=?$/))),
  SPACES_VAPID_SUBJECT: Schema.optional(Schema.String.pipe(Schema.pattern(/^(mailto:\S+|https:\/\/\S+)$/))),
  SPACES_PUSH_ALLOW_HTTP: Schema.optionalWith(Bool, { default: () => false }),
  SPACES_NOTIFICATIONS_FAN_OUT_THRESHOLD: Schema.optionalWith(Int(1, 100_000_000), { default: () => 2_000 }),
  // Captions
  SPACES_CAPTIONS_ENGINE: Schema.optionalWith(Schema.Literal("pocketsphinx", "whisper", "external", "off"), {
    default: () => "pocketsphinx" as const
  }),
  SPACES_CAPTIONS_URL: Schema.optional(Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/))),
  SPACES_CAPTIONS_MODEL: Schema.optionalWith(Text, { default: () => "whisper-1" }),
  SPACES_CAPTIONS_API_KEY: Schema.optional(Text),
  SPACES_CAPTIONS_LANGUAGE: Schema.optional(Schema.String.pipe(Schema.pattern(/^[a-z]{2}$/))),
  SPACES_CAPTIONS_DECODERS: Schema.optional(Int(1, 64)),
  SPACES_CAPTIONS_MODEL_DIR: Schema.optional(Text),
  SPACES_CAPTIONS_SERVICE_ID: Schema.optionalWith(Text, { default: () => "transcriber" }),
  // HTTP
  SPACES_RATE_LIMIT_PER_SECOND: Schema.optionalWith(Int(1, 1_000_000), { default: () => 20 }),
  SPACES_RATE_LIMIT_BURST: Schema.optionalWith(Int(1, 1_000_000), { default: () => 60 }),
  SPACES_WEB_CLIENT: Schema.optionalWith(Bool, { default: () => true }),
  SPACES_MAX_BODY_BYTES: Schema.optionalWith(Int(256, 10_000_000), { default: () => 16_384 }),
  SPACES_READY_MAX_LAG: Schema.optionalWith(Int(0, 1_000_000_000), { default: () => 10_000 }),
  SPACES_SHUTDOWN_GRACE_MS: Schema.optionalWith(Int(0, 600_000), { default: () => 5_000 }),
  SPACES_DISCONNECT_GRACE_MS: Schema.optionalWith(Int(100, 86_400_000), { default: () => 30_000 }),
  SPACES_TRUST_PROXY: Schema.optional(Text),
  SPACES_AUTH_FAILURES_PER_MINUTE: Schema.optionalWith(Int(1, 1_000_000), { default: () => 30 }),
  SPACES_SSE_MAX_PER_USER: Schema.optionalWith(Int(1, 10_000), { default: () => 10 }),
  SPACES_SSE_MAX: Schema.optionalWith(Int(1, 1_000_000), { default: () => 10_000 }),
  SPACES_LIVE_REPLAY_MAX: Schema.optionalWith(Int(1, 100_000), { default: () => 1_000 }),
  SPACES_POSTS_PER_MINUTE: Schema.optionalWith(Int(1, 1_000_000), { default: () => 30 }),
  SPACES_OPS_PORT: Schema.optional(Int(0, 65_535)),
  SPACES_OPS_HOST: Schema.optionalWith(Text, { default: () => "127.0.0.1" }),
  SPACES_METRICS_TOKEN: Schema.optional(Schema.String.pipe(Schema.minLength(16))),
  // Several nodes
  SPACES_REDIS_URL: Schema.optional(Schema.String.pipe(Schema.pattern(/^rediss?:\/\/\S+$/))),
  SPACES_NODE_ID: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._-]{1,64}$/)))
})
type Env = typeof Env.Type

/** Rules fields set from variables, for naming the variable when the merged rules are invalid. */
const ruleVariables: Record<string, string> = {
  maxSpeakers: "SPACES_MAX_SPEAKERS",
  maxCoHosts: "SPACES_MAX_COHOSTS",
  maxListeners: "SPACES_MAX_LISTENERS",
  minFollowersToHost: "SPACES_MIN_FOLLOWERS_TO_HOST",
  hostGraceMs: "SPACES_HOST_GRACE_SECONDS",
  scheduledExpiryMs: "SPACES_SCHEDULED_EXPIRY_SECONDS",
  topics: "SPACES_TOPICS"
}

/** One message per variable (an optional variable's union adds a useless "Expected undefined"). */
const describe = (issue: ParseResult.ParseError, names: (key: string) => string) => {
  const byKey = new Map<string, string>()
  for (const i of ParseResult.ArrayFormatter.formatErrorSync(issue)) {
    const key = String(i.path[0] ?? "")
    if (!byKey.has(key)) byKey.set(key, `${names(key)}: ${i.message}`)
  }
  return [...byKey.values()].join("; ")
}

const rulesFrom = (env: Env): RoomRules => {
  const d = defaultRoomRules
  const candidate = {
    ...Schema.encodeSync(RoomRules)(d),
    maxSpeakers: env.SPACES_MAX_SPEAKERS ?? d.maxSpeakers,
    maxCoHosts: env.SPACES_MAX_COHOSTS ?? d.maxCoHosts,
    maxListeners: env.SPACES_MAX_LISTENERS ?? d.maxListeners,
    minFollowersToHost: env.SPACES_MIN_FOLLOWERS_TO_HOST ?? d.minFollowersToHost,
    hostGraceMs:
      env.SPACES_HOST_GRACE_SECONDS === undefined ? d.hostGraceMs : env.SPACES_HOST_GRACE_SECONDS * 1000,
    scheduledExpiryMs:
      env.SPACES_SCHEDULED_EXPIRY_SECONDS === undefined
        ? d.scheduledExpiryMs
        : env.SPACES_SCHEDULED_EXPIRY_SECONDS * 1000,
    topics:
      env.SPACES_TOPICS === undefined
        ? d.topics
        : env.SPACES_TOPICS.split(",")
            .map((t) => t.trim().toLowerCase())
            .filter((t) => t.length > 0)
  }
  return Either.getOrThrowWith(Schema.decodeUnknownEither(RoomRules)(candidate), (error) => {
    throw new ConfigInvalid(`invalid rules: ${describe(error, (key) => ruleVariables[key] ?? key)}`)
  })
}

const oidcFrom = (env: Env): OidcClientConfig | undefined => {
  if (env.SPACES_OIDC_CLIENT_ID === undefined) {
    if (env.SPACES_OIDC_ISSUER !== undefined)
      throw new ConfigInvalid("SPACES_OIDC_CLIENT_ID is required with SPACES_OIDC_ISSUER")
    return undefined
  }
  const issuer = env.SPACES_OIDC_ISSUER ?? env.SPACES_JWT_ISSUER
  if (issuer === undefined || !/^https?:\/\/\S+$/.test(issuer))
    throw new ConfigInvalid(
      "SPACES_OIDC_CLIENT_ID needs the issuer's URL: set SPACES_OIDC_ISSUER (or an http(s) SPACES_JWT_ISSUER)"
    )
  if (env.SPACES_JWKS_URL === undefined)
    throw new ConfigInvalid(
      "SPACES_OIDC_CLIENT_ID needs SPACES_JWKS_URL: the server verifies the provider's tokens"
    )
  return {
    issuer,
    clientId: env.SPACES_OIDC_CLIENT_ID,
    scopes: env.SPACES_OIDC_SCOPES,
    resource: env.SPACES_OIDC_RESOURCE
  }
}

const authFrom = (env: Env, mode: RunMode): AuthConfig => {
  const production = mode === "production"
  const jwksUrl = env.SPACES_JWKS_URL === undefined ? undefined : new URL(env.SPACES_JWKS_URL)
  if (production && env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined)
    throw new ConfigInvalid(
      `SPACES_JWT_SECRET or SPACES_JWKS_URL is required in production (NODE_ENV=${env.NODE_ENV})`
    )
  // The issuer pins the tokens to the one provider those keys belong to.
  if (production && jwksUrl !== undefined && env.SPACES_JWT_ISSUER === undefined)
    throw new ConfigInvalid("SPACES_JWT_ISSUER is required with SPACES_JWKS_URL in production")
  // Without an audience any token the identity provider issues (for any of its clients) would do.
  if (
    production &&
    jwksUrl !== undefined &&
    env.SPACES_JWT_AUDIENCE === undefined &&
    !env.SPACES_JWT_ANY_AUDIENCE
  )
    throw new ConfigInvalid(
      "SPACES_JWT_AUDIENCE is required with SPACES_JWKS_URL in production (or SPACES_JWT_ANY_AUDIENCE=true to accept any audience)"
    )
  if (env.SPACES_JWT_AUDIENCE !== undefined && env.SPACES_JWT_ANY_AUDIENCE)
    throw new ConfigInvalid("SPACES_JWT_ANY_AUDIENCE=true contradicts SPACES_JWT_AUDIENCE: set one of them")
  // Development sign-in mints any identity: never in production, opt-in unless this is a
  // development run, and in a development run on by default only with the generated secret.
  if (production && (env.SPACES_DEV_AUTH === true || env.SPACES_DEV_AUTH_SERVICES))
    throw new ConfigInvalid(
      `${env.SPACES_DEV_AUTH === true ? "SPACES_DEV_AUTH" : "SPACES_DEV_AUTH_SERVICES"}=true is refused in production (NODE_ENV=${env.NODE_ENV}): development sign-in issues tokens for anyone`
    )
  // Development default: a random per-process secret, so `start` works with no setup at all.
  const generated = env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined
  const secret =
    env.SPACES_JWT_SECRET !== undefined
      ? new TextEncoder().encode(env.SPACES_JWT_SECRET)
      : generated
        ? new Uint8Array(randomBytes(32))
        : undefined
  const devAuth = env.SPACES_DEV_AUTH ?? (mode === "development" && generated)
  if (devAuth && secret === undefined)
    throw new ConfigInvalid("SPACES_DEV_AUTH=true needs SPACES_JWT_SECRET (development tokens are HS256)")
  if (env.SPACES_DEV_AUTH_SERVICES && !devAuth)
    throw new ConfigInvalid("SPACES_DEV_AUTH_SERVICES=true needs development sign-in on (SPACES_DEV_AUTH)")
  const maxLifetime = env.SPACES_TOKEN_MAX_LIFETIME_SECONDS
  const ttl = env.SPACES_TOKEN_TTL_SECONDS ?? Math.min(86_400, maxLifetime)
  if (ttl > maxLifetime)
    throw new ConfigInvalid(
      `SPACES_TOKEN_TTL_SECONDS (${ttl}) is above SPACES_TOKEN_MAX_LIFETIME_SECONDS (${maxLifetime}): the server would refuse its own tokens`
    )
  return {
    secret,
    generatedSecret: generated,
    jwksUrl,
    issuer: env.SPACES_JWT_ISSUER,
    audience: env.SPACES_JWT_AUDIENCE,
    anyAudience: env.SPACES_JWT_ANY_AUDIENCE,
    devTokens: devAuth,
    devServiceTokens: env.SPACES_DEV_AUTH_SERVICES,
    tokenTtlSeconds: ttl,
    maxTokenLifetimeSeconds: maxLifetime,
    oidc: oidcFrom(env)
  }
}

/**
 * The recording URL key: its own variable, else the HS256 token secret (both shared by every node).
 * Without either (JWKS-only, or development's random token secret) it is random per process, which
 * production refuses: a URL signed by one node would be refused by the others and after a restart.
 */
const recordingUrlsFrom = (env: Env, production: boolean): RecordingUrlConfig => {
  const configured = env.SPACES_RECORDING_URL_SECRET ?? env.SPACES_JWT_SECRET
  if (configured !== undefined)
    return { secret: new TextEncoder().encode(configured), generatedSecret: false }
  if (production)
    throw new ConfigInvalid(
      "SPACES_RECORDING_URL_SECRET is required in production (NODE_ENV other than development/test) without SPACES_JWT_SECRET (it signs recording URLs on every node)"
    )
  return { secret: new Uint8Array(randomBytes(32)), generatedSecret: true }
}

/** The VAPID keys come as a pair, with the subject push services contact the operator at. */
const pushFrom = (env: Env): PushConfig => {
  const { SPACES_VAPID_PUBLIC_KEY: publicKey, SPACES_VAPID_PRIVATE_KEY: privateKey } = env
  const subject = env.SPACES_VAPID_SUBJECT
  const allowInsecureEndpoints = env.SPACES_PUSH_ALLOW_HTTP
  if (publicKey === undefined && privateKey === undefined) return { vapid: undefined, allowInsecureEndpoints }
  if (publicKey === undefined || privateKey === undefined)
    throw new ConfigInvalid("SPACES_VAPID_PUBLIC_KEY and SPACES_VAPID_PRIVATE_KEY are set together")
  if (subject === undefined)
    throw new ConfigInvalid("SPACES_VAPID_SUBJECT (mailto: or https: URL) is required with the VAPID keys")
  return { vapid: { publicKey, privateKey, subject }, allowInsecureEndpoints }
}

const mediaFrom = (env: Env): Partial<MediaConfig> => {
  const options: { -readonly [K in keyof MediaConfig]?: MediaConfig[K] } = {}
  if (env.SPACES_MEDIA_WORKERS !== undefined) options.workers = env.SPACES_MEDIA_WORKERS
  if (env.SPACES_MEDIA_LISTEN_IP !== undefined) options.listenIp = env.SPACES_MEDIA_LISTEN_IP
  if (env.SPACES_MEDIA_ANNOUNCED_IP !== undefined) options.announcedIp = env.SPACES_MEDIA_ANNOUNCED_IP
  if (env.SPACES_MEDIA_PIPE_LISTEN_IP !== undefined) options.pipeListenIp = env.SPACES_MEDIA_PIPE_LISTEN_IP
  if (env.SPACES_MEDIA_PIPE_ANNOUNCED_IP !== undefined)
    options.pipeAnnouncedIp = env.SPACES_MEDIA_PIPE_ANNOUNCED_IP
  if (env.SPACES_MEDIA_MIN_PORT !== undefined) options.rtcMinPort = env.SPACES_MEDIA_MIN_PORT
  if (env.SPACES_MEDIA_MAX_PORT !== undefined) options.rtcMaxPort = env.SPACES_MEDIA_MAX_PORT
  if (env.SPACES_MEDIA_MAX_TRANSPORTS_PER_USER !== undefined)
    options.maxTransportsPerUser = env.SPACES_MEDIA_MAX_TRANSPORTS_PER_USER
  if (env.SPACES_MEDIA_MAX_PRODUCERS_PER_TRANSPORT !== undefined)
    options.maxProducersPerTransport = env.SPACES_MEDIA_MAX_PRODUCERS_PER_TRANSPORT
  if (env.SPACES_MEDIA_MAX_CONSUMERS_PER_USER !== undefined)
    options.maxConsumersPerUser = env.SPACES_MEDIA_MAX_CONSUMERS_PER_USER
  if (env.SPACES_RECORDINGS_DIR !== undefined) options.recordingsDir = env.SPACES_RECORDINGS_DIR
  if ((options.rtcMinPort ?? 40_000) > (options.rtcMaxPort ?? 49_999))
    throw new ConfigInvalid("SPACES_MEDIA_MIN_PORT must not be above SPACES_MEDIA_MAX_PORT")
  return options
}

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"])

/** `true`/`false`, a hop count, or a comma-separated list of addresses, subnets and Express's names. */
const trustProxyFrom = (raw: string | undefined): TrustProxy => {
  if (raw === undefined) return false
  const text = raw.trim().toLowerCase()
  if (["true", "yes"].includes(text)) return true
  if (["false", "0", "no"].includes(text)) return false
  if (/^\d{1,2}$/.test(text)) return Number(text)
  const entries = text.split(",").map((entry) => entry.trim())
  for (const entry of entries) {
    const [address, bits, ...extra] = entry.split("/")
    const validBits =
      bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address!) === 6 ? 128 : 32))
    if (!(PROXY_NAMES.has(entry) || (isIP(address ?? "") !== 0 && validBits && extra.length === 0)))
      throw new ConfigInvalid(
        `SPACES_TRUST_PROXY: "${entry}" is not true/false, a hop count, an address, a subnet, loopback, linklocal or uniquelocal`
      )
  }
  return entries
}

type CaptionsEnv = Pick<
  Env,
  | "SPACES_CAPTIONS_ENGINE"
  | "SPACES_CAPTIONS_URL"
  | "SPACES_CAPTIONS_MODEL"
  | "SPACES_CAPTIONS_API_KEY"
  | "SPACES_CAPTIONS_LANGUAGE"
  | "SPACES_CAPTIONS_DECODERS"
  | "SPACES_CAPTIONS_MODEL_DIR"
  | "SPACES_CAPTIONS_SERVICE_ID"
>

const captionsFrom = (env: CaptionsEnv): CaptionsConfig => {
  switch (env.SPACES_CAPTIONS_ENGINE) {
    case "off":
      return { engine: "off" }
    case "external":
      return { engine: "external", serviceId: env.SPACES_CAPTIONS_SERVICE_ID }
    case "pocketsphinx":
      return {
        engine: "pocketsphinx",
        serviceId: env.SPACES_CAPTIONS_SERVICE_ID,
        decoders: env.SPACES_CAPTIONS_DECODERS ?? Math.max(1, Math.min(availableParallelism(), 4)),
        modelDir: env.SPACES_CAPTIONS_MODEL_DIR
      }
    case "whisper":
      if (env.SPACES_CAPTIONS_URL === undefined)
        throw new ConfigInvalid("SPACES_CAPTIONS_URL is required with SPACES_CAPTIONS_ENGINE=whisper")
      return {
        engine: "whisper",
        serviceId: env.SPACES_CAPTIONS_SERVICE_ID,
        url: env.SPACES_CAPTIONS_URL,
        model: env.SPACES_CAPTIONS_MODEL,
        apiKey: env.SPACES_CAPTIONS_API_KEY,
        language: env.SPACES_CAPTIONS_LANGUAGE,
        maxInFlight: env.SPACES_CAPTIONS_DECODERS ?? 4
      }
  }
}

/** Decodes the configuration from an environment; throws `ConfigInvalid` naming the variable. */
export const loadConfig = (environment: Readonly<Record<string, string | undefined>>): ServerConfig => {
  // An empty variable is an unset one (`FOO= npm start`).
  const entries = Object.entries(environment).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""
  )
  const env = Either.getOrThrowWith(Schema.decodeUnknownEither(Env)(Object.fromEntries(entries)), (error) => {
    throw new ConfigInvalid(`invalid configuration: ${describe(error, (key) => key)}`)
  })
  const store = Effect.runSync(
    Effect.withConfigProvider(eventStoreConfig, ConfigProvider.fromMap(new Map(entries))).pipe(
      Effect.mapError((error) => new ConfigInvalid(`invalid event store configuration: ${String(error)}`)),
      Effect.either
    )
  )
  if (Either.isLeft(store)) throw store.left
  const runMode = runModeOf(env.NODE_ENV)
  const production = runMode === "production"
  // Views beside the SQLite log by default (`spaces.sqlite` → `spaces.views.sqlite`); "memory"
  // rebuilds them from the log at every start (the default with EventStoreDB).
  const viewsPath =
    env.SPACES_VIEWS_PATH ??
    (store.right.kind === "sqlite" && store.right.path !== ":memory:"
      ? viewsPathBeside(store.right.path)
      : "memory")
  return {
    port: env.PORT,
    host: env.HOST,
    production,
    runMode,
    store: store.right,
    rules: rulesFrom(env),
    views: viewsPath === "memory" ? { kind: "memory" } : { kind: "sqlite", path: viewsPath },
    auth: authFrom(env, runMode),
    recordingUrls: recordingUrlsFrom(env, production),
    push: pushFrom(env),
    notificationsFanOutThreshold: env.SPACES_NOTIFICATIONS_FAN_OUT_THRESHOLD,
    media: { mode: env.SPACES_MEDIA, options: mediaFrom(env) },
    captions: captionsFrom(env),
    rateLimit: { perSecond: env.SPACES_RATE_LIMIT_PER_SECOND, burst: env.SPACES_RATE_LIMIT_BURST },
    maxBodyBytes: env.SPACES_MAX_BODY_BYTES,
    webClient: env.SPACES_WEB_CLIENT,
    logLevel: env.SPACES_LOG_LEVEL,
    readyMaxLagEvents: env.SPACES_READY_MAX_LAG,
    shutdownGraceMs: env.SPACES_SHUTDOWN_GRACE_MS,
    presence: { disconnectGraceMs: env.SPACES_DISCONNECT_GRACE_MS },
    cluster: {
      redisUrl: env.SPACES_REDIS_URL,
      nodeId:
        env.SPACES_NODE_ID ??
        `${hostname()
          .replace(/[^A-Za-z0-9._-]/g, "-")
          .slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`
    },
    authFailuresPerMinute: env.SPACES_AUTH_FAILURES_PER_MINUTE,
    trustProxy: trustProxyFrom(env.SPACES_TRUST_PROXY),
    sse: {
      maxPerUser: env.SPACES_SSE_MAX_PER_USER,
      maxTotal: env.SPACES_SSE_MAX,
      replayMax: env.SPACES_LIVE_REPLAY_MAX
    },
    postsPerMinute: env.SPACES_POSTS_PER_MINUTE,
    ops: { port: env.SPACES_OPS_PORT, host: env.SPACES_OPS_HOST, metricsToken: env.SPACES_METRICS_TOKEN }
  }
}

/** `npm run transcriber`: where the server is, its service token, its engine (SPACES_CAPTIONS_*). */
export interface TranscriberConfig {
  readonly url: string
  /** The service token: SPACES_SERVICE_TOKEN, or read from SPACES_SERVICE_TOKEN_FILE at each request (rotation). */
  readonly token: { readonly value: string } | { readonly file: string }
  /** The address this process receives RTP on: bound here and given to the server as the tap's ip. */
  readonly host: string
  readonly engine: EngineConfig
  readonly logLevel: Env["SPACES_LOG_LEVEL"]
}

const TranscriberEnv = Schema.Struct({
  SPACES_URL: Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/)),
  SPACES_SERVICE_TOKEN: Schema.optional(Text),
  SPACES_SERVICE_TOKEN_FILE: Schema.optional(Text),
  SPACES_TRANSCRIBER_HOST: Schema.optionalWith(
    Schema.String.pipe(Schema.filter((ip) => isIP(ip) !== 0 || "an IPv4 or IPv6 address")),
    { default: () => "127.0.0.1" }
  ),
  SPACES_LOG_LEVEL: Env.fields.SPACES_LOG_LEVEL,
  SPACES_CAPTIONS_ENGINE: Schema.optionalWith(Schema.Literal("pocketsphinx", "whisper"), {
    default: () => "pocketsphinx" as const
  }),
  SPACES_CAPTIONS_URL: Env.fields.SPACES_CAPTIONS_URL,
  SPACES_CAPTIONS_MODEL: Env.fields.SPACES_CAPTIONS_MODEL,
  SPACES_CAPTIONS_API_KEY: Env.fields.SPACES_CAPTIONS_API_KEY,
  SPACES_CAPTIONS_LANGUAGE: Env.fields.SPACES_CAPTIONS_LANGUAGE,
  SPACES_CAPTIONS_DECODERS: Env.fields.SPACES_CAPTIONS_DECODERS,
  SPACES_CAPTIONS_MODEL_DIR: Env.fields.SPACES_CAPTIONS_MODEL_DIR,
  SPACES_CAPTIONS_SERVICE_ID: Env.fields.SPACES_CAPTIONS_SERVICE_ID
})

/** Decodes the transcriber's configuration; throws `ConfigInvalid` naming the variable. */
export const loadTranscriberConfig = (
  environment: Readonly<Record<string, string | undefined>>
): TranscriberConfig => {
  const entries = Object.entries(environment).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""
  )
  const env = Either.getOrThrowWith(
    Schema.decodeUnknownEither(TranscriberEnv)(Object.fromEntries(entries)),
    (error) => {
      throw new ConfigInvalid(`invalid configuration: ${describe(error, (key) => key)}`)
    }
  )
  const token =
    env.SPACES_SERVICE_TOKEN !== undefined
      ? { value: env.SPACES_SERVICE_TOKEN }
      : env.SPACES_SERVICE_TOKEN_FILE !== undefined
        ? { file: env.SPACES_SERVICE_TOKEN_FILE }
        : undefined
  if (token === undefined)
    throw new ConfigInvalid("SPACES_SERVICE_TOKEN or SPACES_SERVICE_TOKEN_FILE is required (a service token)")
  const engine = captionsFrom(env)
  if (engine.engine !== "pocketsphinx" && engine.engine !== "whisper")
    throw new ConfigInvalid("SPACES_CAPTIONS_ENGINE: the transcriber runs pocketsphinx or whisper")
  return {
    url: env.SPACES_URL.replace(/\/+$/, ""),
    token,
    host: env.SPACES_TRANSCRIBER_HOST,
    engine,
    logLevel: env.SPACES_LOG_LEVEL
  }
}
