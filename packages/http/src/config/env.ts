import { GATHER_MS } from "@spaces/domain"
import { Either, ParseResult, Schema } from "effect"
import { ConfigInvalid } from "./types.js"

const Int = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))
const Bool = Schema.transformLiterals(
  ["true", true],
  ["1", true],
  ["yes", true],
  ["false", false],
  ["0", false],
  ["no", false]
)
export const Text = Schema.String.pipe(Schema.minLength(1))

/** Every variable the server reads (besides the event store's own, which its package decodes). */
export const Env = Schema.Struct({
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
  // Both the log follower's and the projections' pause (see `GATHER_MS`, `LIVE_BATCH_MS`).
  SPACES_LIVE_BATCH_MS: Schema.optionalWith(Int(0, 1_000), { default: () => GATHER_MS }),
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
export type Env = typeof Env.Type

/** One message per variable (an optional variable's union adds a useless "Expected undefined"). */
export const describe = (issue: ParseResult.ParseError, names: (key: string) => string) => {
  const byKey = new Map<string, string>()
  for (const i of ParseResult.ArrayFormatter.formatErrorSync(issue)) {
    const key = String(i.path[0] ?? "")
    if (!byKey.has(key)) byKey.set(key, `${names(key)}: ${i.message}`)
  }
  return [...byKey.values()].join("; ")
}

/**
 * Decodes an environment with `schema`; throws `ConfigInvalid` naming the variable. An empty
 * variable is an unset one (`FOO= npm start`).
 */
export const decodeEnv = <A, I>(
  schema: Schema.Schema<A, I>,
  environment: Readonly<Record<string, string | undefined>>
) => {
  const entries = Object.entries(environment).filter(
    (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""
  )
  const env = Either.getOrThrowWith(
    Schema.decodeUnknownEither(schema)(Object.fromEntries(entries)),
    (error) => {
      throw new ConfigInvalid(`invalid configuration: ${describe(error, (key) => key)}`)
    }
  )
  return { env, entries }
}
