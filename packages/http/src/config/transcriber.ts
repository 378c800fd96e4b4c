import { isIP } from "node:net"
import { Schema } from "effect"
import { decodeEnv, Env, Text } from "./env.js"
import { captionsFrom } from "./sections.js"
import { ConfigInvalid, type EngineConfig } from "./types.js"

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
  const { env } = decodeEnv(TranscriberEnv, environment)
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
