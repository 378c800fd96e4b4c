import { randomBytes } from "node:crypto"
import { availableParallelism } from "node:os"
import { defaultRoomRules, RoomRules } from "@spaces/domain"
import { type EventStoreConfig, eventStoreConfig } from "@spaces/eventstore"
import type { MediaConfig } from "@spaces/media"
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
  /** `POST /v1/dev/token` is served. */
  readonly devTokens: boolean
  readonly tokenTtlSeconds: number
}

/** The key that signs recording track URLs (they must verify on every node and after a restart). */
export interface RecordingUrlConfig {
  readonly secret: Uint8Array
  /** True when neither SPACES_RECORDING_URL_SECRET nor SPACES_JWT_SECRET was set: URLs die with the process. */
  readonly generatedSecret: boolean
}

/** The transcriber's engine (SPACES_CAPTIONS_*): the embedded default, a Whisper-compatible server, or none. */
export type CaptionsConfig =
  | { readonly engine: "off" }
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

export interface ServerConfig {
  readonly port: number
  readonly host: string
  readonly production: boolean
  readonly store: EventStoreConfig
  readonly rules: RoomRules
  /** Where the projections keep their views and checkpoints. */
  readonly views: { readonly kind: "sqlite"; readonly path: string } | { readonly kind: "memory" }
  readonly auth: AuthConfig
  readonly recordingUrls: RecordingUrlConfig
  readonly media: { readonly mode: "auto" | "on" | "off"; readonly options: Partial<MediaConfig> }
  readonly captions: CaptionsConfig
  readonly rateLimit: { readonly perSecond: number; readonly burst: number }
  readonly maxBodyBytes: number
  /** Serve the web client at `/`. */
  readonly webClient: boolean
  readonly logLevel: LogLevel
  /** /readyz fails while a projection runner is more than this many events behind the log. */
  readonly readyMaxLagEvents: number
  /** How often due system commands (expiry, host grace) are looked up and issued. */
  /** How long shutdown waits for in-flight requests before closing connections. */
  readonly shutdownGraceMs: number
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
  SPACES_DEV_AUTH: Schema.optional(Bool),
  SPACES_TOKEN_TTL_SECONDS: Schema.optionalWith(Int(60, 30 * 86_400), { default: () => 86_400 }),
  // Media
  SPACES_MEDIA: Schema.optionalWith(Schema.Literal("auto", "on", "off"), { default: () => "auto" as const }),
  SPACES_MEDIA_WORKERS: Schema.optional(Int(1, 256)),
  SPACES_MEDIA_LISTEN_IP: Schema.optional(Text),
  SPACES_MEDIA_ANNOUNCED_IP: Schema.optional(Text),
  SPACES_MEDIA_MIN_PORT: Schema.optional(Int(1024, 65_535)),
  SPACES_MEDIA_MAX_PORT: Schema.optional(Int(1024, 65_535)),
  SPACES_RECORDINGS_DIR: Schema.optional(Text),
  SPACES_RECORDING_URL_SECRET: Schema.optional(Schema.String.pipe(Schema.minLength(32))),
  // Captions
  SPACES_CAPTIONS_ENGINE: Schema.optionalWith(Schema.Literal("pocketsphinx", "whisper", "off"), {
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
  SPACES_SHUTDOWN_GRACE_MS: Schema.optionalWith(Int(0, 600_000), { default: () => 5_000 })
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

const authFrom = (env: Env, production: boolean): AuthConfig => {
  const jwksUrl = env.SPACES_JWKS_URL === undefined ? undefined : new URL(env.SPACES_JWKS_URL)
  if (production && env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined)
    throw new ConfigInvalid("SPACES_JWT_SECRET or SPACES_JWKS_URL is required when NODE_ENV=production")
  // Development default: a random per-process secret, so `start` works with no setup at all.
  const generated = env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined
  const secret =
    env.SPACES_JWT_SECRET !== undefined
      ? new TextEncoder().encode(env.SPACES_JWT_SECRET)
      : generated
        ? new Uint8Array(randomBytes(32))
        : undefined
  // Dev tokens: on by default outside production, explicit SPACES_DEV_AUTH wins; they need a secret.
  const devTokens = (env.SPACES_DEV_AUTH ?? !production) && secret !== undefined
  return {
    secret,
    generatedSecret: generated,
    jwksUrl,
    issuer: env.SPACES_JWT_ISSUER,
    audience: env.SPACES_JWT_AUDIENCE,
    devTokens,
    tokenTtlSeconds: env.SPACES_TOKEN_TTL_SECONDS
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
      "SPACES_RECORDING_URL_SECRET is required when NODE_ENV=production without SPACES_JWT_SECRET (it signs recording URLs on every node)"
    )
  return { secret: new Uint8Array(randomBytes(32)), generatedSecret: true }
}

const mediaFrom = (env: Env): Partial<MediaConfig> => {
  const options: { -readonly [K in keyof MediaConfig]?: MediaConfig[K] } = {}
  if (env.SPACES_MEDIA_WORKERS !== undefined) options.workers = env.SPACES_MEDIA_WORKERS
  if (env.SPACES_MEDIA_LISTEN_IP !== undefined) options.listenIp = env.SPACES_MEDIA_LISTEN_IP
  if (env.SPACES_MEDIA_ANNOUNCED_IP !== undefined) options.announcedIp = env.SPACES_MEDIA_ANNOUNCED_IP
  if (env.SPACES_MEDIA_MIN_PORT !== undefined) options.rtcMinPort = env.SPACES_MEDIA_MIN_PORT
  if (env.SPACES_MEDIA_MAX_PORT !== undefined) options.rtcMaxPort = env.SPACES_MEDIA_MAX_PORT
  if (env.SPACES_RECORDINGS_DIR !== undefined) options.recordingsDir = env.SPACES_RECORDINGS_DIR
  if ((options.rtcMinPort ?? 40_000) > (options.rtcMaxPort ?? 49_999))
    throw new ConfigInvalid("SPACES_MEDIA_MIN_PORT must not be above SPACES_MEDIA_MAX_PORT")
  return options
}

const captionsFrom = (env: Env): CaptionsConfig => {
  switch (env.SPACES_CAPTIONS_ENGINE) {
    case "off":
      return { engine: "off" }
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
  const production = env.NODE_ENV === "production"
  // Views beside the SQLite log by default (`spaces.sqlite` → `spaces.views.sqlite`); "memory"
  // rebuilds them from the log at every start (the default with EventStoreDB).
  const viewsPath =
    env.SPACES_VIEWS_PATH ??
    (store.right.kind === "sqlite" && store.right.path !== ":memory:"
      ? store.right.path.replace(/(\.sqlite3?|\.db)?$/, ".views.sqlite")
      : "memory")
  return {
    port: env.PORT,
    host: env.HOST,
    production,
    store: store.right,
    rules: rulesFrom(env),
    views: viewsPath === "memory" ? { kind: "memory" } : { kind: "sqlite", path: viewsPath },
    auth: authFrom(env, production),
    recordingUrls: recordingUrlsFrom(env, production),
    media: { mode: env.SPACES_MEDIA, options: mediaFrom(env) },
    captions: captionsFrom(env),
    rateLimit: { perSecond: env.SPACES_RATE_LIMIT_PER_SECOND, burst: env.SPACES_RATE_LIMIT_BURST },
    maxBodyBytes: env.SPACES_MAX_BODY_BYTES,
    webClient: env.SPACES_WEB_CLIENT,
    logLevel: env.SPACES_LOG_LEVEL,
    readyMaxLagEvents: env.SPACES_READY_MAX_LAG,
    shutdownGraceMs: env.SPACES_SHUTDOWN_GRACE_MS
  }
}
