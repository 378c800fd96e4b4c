import { isIP } from "node:net"
import { availableParallelism } from "node:os"
import { defaultRoomRules, RoomRules } from "@spaces/domain"
import type { MediaConfig } from "@spaces/media"
import { Either, Schema } from "effect"
import { describe, type Env } from "./env.js"
import { type CaptionsConfig, ConfigInvalid, type PushConfig, type TrustProxy } from "./types.js"

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

export const rulesFrom = (env: Env): RoomRules => {
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

/** The VAPID keys come as a pair, with the subject push services contact the operator at. */
export const pushFrom = (env: Env): PushConfig => {
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

export const mediaFrom = (env: Env): Partial<MediaConfig> => {
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
export const trustProxyFrom = (raw: string | undefined): TrustProxy => {
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

export type CaptionsEnv = Pick<
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

export const captionsFrom = (env: CaptionsEnv): CaptionsConfig => {
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
