/**
 * The server's configuration, decoded from environment variables with a Schema. A bad value fails
 * fast with a message that names the variable; every variable has a default that makes the
 * embedded setup (SQLite file, in-process projections, local media workers) work out of the box.
 */
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { eventStoreConfig } from "@spaces/eventstore"
import { viewsPathBeside } from "@spaces/projections"
import { ConfigProvider, Effect, Either } from "effect"
import { authFrom, recordingUrlsFrom } from "./auth.js"
import { decodeEnv, Env } from "./env.js"
import { captionsFrom, mediaFrom, pushFrom, rulesFrom, trustProxyFrom } from "./sections.js"
import { ConfigInvalid, runModeOf, type ServerConfig } from "./types.js"

/** Decodes the configuration from an environment; throws `ConfigInvalid` naming the variable. */
export const loadConfig = (environment: Readonly<Record<string, string | undefined>>): ServerConfig => {
  const { env, entries } = decodeEnv(Env, environment)
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
    liveBatchMs: env.SPACES_LIVE_BATCH_MS,
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
