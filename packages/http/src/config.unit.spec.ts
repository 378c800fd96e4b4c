import { viewsPathConfig } from "@spaces/projections"
import { ConfigProvider, Effect } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { loadConfig, loadTranscriberConfig, runModeOf } from "./config.js"

const cliViewsPath = (env: Record<string, string>): string =>
  Effect.runSync(
    Effect.withConfigProvider(viewsPathConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

describe("configuration from the environment", () => {
  it("has embedded defaults", () => {
    const config = loadConfig({})
    expect(config.port).toBe(8080)
    expect(config.store).toMatchObject({ kind: "sqlite" })
    expect(config.rules.maxSpeakers).toBe(13)
    expect(config.auth.generatedSecret).toBe(true)
    // NODE_ENV unset is not a development run: development sign-in is opt-in.
    expect(config.auth.devTokens).toBe(false)
  })

  it("takes the live batches' pause in milliseconds, 40 by default, 0 for none", () => {
    expect(loadConfig({}).liveBatchMs).toBe(40)
    expect(loadConfig({ SPACES_LIVE_BATCH_MS: "0" }).liveBatchMs).toBe(0)
    expect(loadConfig({ SPACES_LIVE_BATCH_MS: "250" }).liveBatchMs).toBe(250)
    expect(() => loadConfig({ SPACES_LIVE_BATCH_MS: "1001" })).toThrow(/SPACES_LIVE_BATCH_MS/)
    expect(() => loadConfig({ SPACES_LIVE_BATCH_MS: "-1" })).toThrow(/SPACES_LIVE_BATCH_MS/)
  })

  it("applies rule overrides and picks EventStoreDB when its connection string is set", () => {
    const config = loadConfig({
      SPACES_MAX_SPEAKERS: "5",
      SPACES_MIN_FOLLOWERS_TO_HOST: "600",
      EVENTSTORE_CONNECTION_STRING: "esdb://localhost:2113?tls=false"
    })
    expect(config.rules).toMatchObject({ maxSpeakers: 5, minFollowersToHost: 600 })
    expect(config.store.kind).toBe("esdb")
  })

  it("keeps the views beside the SQLite log, in memory with EventStoreDB", () => {
    expect(loadConfig({ SPACES_DB_PATH: "/tmp/x/spaces.sqlite" }).views).toEqual({
      kind: "sqlite",
      path: "/tmp/x/spaces.views.sqlite"
    })
    expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: "esdb://h:2113" }).views).toEqual({ kind: "memory" })
    expect(loadConfig({ SPACES_POSTGRES_URL: "postgres://db/spaces" })).toMatchObject({
      store: { kind: "postgres", connectionString: "postgres://db/spaces" },
      views: { kind: "memory" }
    })
    expect(loadConfig({ SPACES_VIEWS_PATH: "memory" }).views).toEqual({ kind: "memory" })
  })

  it("chooses the captions engine: pocketsphinx by default, whisper with its URL, or off", () => {
    expect(loadConfig({}).captions).toMatchObject({ engine: "pocketsphinx", serviceId: "transcriber" })
    expect(loadConfig({ SPACES_CAPTIONS_DECODERS: "3" }).captions).toMatchObject({ decoders: 3 })
    expect(
      loadConfig({
        SPACES_CAPTIONS_ENGINE: "whisper",
        SPACES_CAPTIONS_URL: "http://gpu:8081",
        SPACES_CAPTIONS_LANGUAGE: "en"
      }).captions
    ).toEqual({
      engine: "whisper",
      serviceId: "transcriber",
      url: "http://gpu:8081",
      model: "whisper-1",
      apiKey: undefined,
      language: "en",
      maxInFlight: 4
    })
    expect(loadConfig({ SPACES_CAPTIONS_ENGINE: "off" }).captions).toEqual({ engine: "off" })
    expect(() => loadConfig({ SPACES_CAPTIONS_ENGINE: "whisper" })).toThrow(/SPACES_CAPTIONS_URL/)
    expect(() => loadConfig({ SPACES_CAPTIONS_ENGINE: "vosk" })).toThrow(/SPACES_CAPTIONS_ENGINE/)
    expect(() => loadConfig({ SPACES_CAPTIONS_DECODERS: "0" })).toThrow(/SPACES_CAPTIONS_DECODERS/)
    expect(loadConfig({ SPACES_CAPTIONS_ENGINE: "external" }).captions).toEqual({
      engine: "external",
      serviceId: "transcriber"
    })
  })

  it("configures the external transcriber: the server's URL, a token or token file, its engine", () => {
    expect(
      loadTranscriberConfig({ SPACES_URL: "http://spaces:8080/", SPACES_SERVICE_TOKEN: "t" })
    ).toMatchObject({
      url: "http://spaces:8080",
      token: { value: "t" },
      host: "127.0.0.1",
      engine: { engine: "pocketsphinx" }
    })
    expect(
      loadTranscriberConfig({
        SPACES_URL: "https://spaces.example",
        SPACES_SERVICE_TOKEN_FILE: "/run/token",
        SPACES_TRANSCRIBER_HOST: "10.0.0.7",
        SPACES_CAPTIONS_ENGINE: "whisper",
        SPACES_CAPTIONS_URL: "http://gpu:8081"
      })
    ).toMatchObject({ token: { file: "/run/token" }, host: "10.0.0.7", engine: { engine: "whisper" } })
    expect(() => loadTranscriberConfig({ SPACES_URL: "http://spaces:8080" })).toThrow(/SPACES_SERVICE_TOKEN/)
    expect(() => loadTranscriberConfig({ SPACES_SERVICE_TOKEN: "t" })).toThrow(/SPACES_URL/)
    expect(() =>
      loadTranscriberConfig({
        SPACES_URL: "http://s",
        SPACES_SERVICE_TOKEN: "t",
        SPACES_TRANSCRIBER_HOST: "box"
      })
    ).toThrow(/SPACES_TRANSCRIBER_HOST/)
    expect(() =>
      loadTranscriberConfig({
        SPACES_URL: "http://s",
        SPACES_SERVICE_TOKEN: "t",
        SPACES_CAPTIONS_ENGINE: "external"
      })
    ).toThrow(/SPACES_CAPTIONS_ENGINE/)
  })

  it("fails fast naming the variable", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrow(/PORT/)
    expect(() => loadConfig({ SPACES_POSTGRES_URL: "mysql://db/spaces" })).toThrow(/SPACES_POSTGRES_URL/)
    expect(() => loadConfig({ SPACES_MAX_SPEAKERS: "0" })).toThrow(/SPACES_MAX_SPEAKERS/)
    expect(() => loadConfig({ SPACES_TOPICS: "Not A Slug" })).toThrow(/SPACES_TOPICS/)
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SPACES_JWT_SECRET/)
    expect(() => loadConfig({ SPACES_JWT_SECRET: "short" })).toThrow(/SPACES_JWT_SECRET/)
    expect(() => loadConfig({ SPACES_RECORDING_URL_SECRET: "short" })).toThrow(/SPACES_RECORDING_URL_SECRET/)
  })

  it("reads the presence disconnect grace: 30 s by default, at least 100 ms", () => {
    expect(loadConfig({}).presence.disconnectGraceMs).toBe(30_000)
    expect(loadConfig({ SPACES_DISCONNECT_GRACE_MS: "1500" }).presence.disconnectGraceMs).toBe(1_500)
    expect(() => loadConfig({ SPACES_DISCONNECT_GRACE_MS: "50" })).toThrow(/SPACES_DISCONNECT_GRACE_MS/)
    expect(() => loadConfig({ SPACES_DISCONNECT_GRACE_MS: "soon" })).toThrow(/SPACES_DISCONNECT_GRACE_MS/)
  })

  describe("development sign-in", () => {
    const secret = "x".repeat(40)

    it("is on by default only in a development run with the generated secret", () => {
      expect(loadConfig({ NODE_ENV: "development" }).auth.devTokens).toBe(true)
      expect(loadConfig({ NODE_ENV: "test" }).auth.devTokens).toBe(true)
      expect(loadConfig({ NODE_ENV: "development", SPACES_DEV_AUTH: "false" }).auth.devTokens).toBe(false)
      // A configured secret is a deployment's: dev sign-in must be asked for.
      expect(loadConfig({ NODE_ENV: "development", SPACES_JWT_SECRET: secret }).auth.devTokens).toBe(false)
      expect(loadConfig({}).auth.devTokens).toBe(false)
      expect(loadConfig({ SPACES_DEV_AUTH: "true" }).auth.devTokens).toBe(true)
    })

    it("counts every NODE_ENV but development/test as production", () => {
      for (const nodeEnv of [
        "production",
        "prod",
        "Production",
        "PRODUCTION",
        "staging",
        "Development",
        " development"
      ])
        expect(runModeOf(nodeEnv), nodeEnv).toBe("production")
      expect(runModeOf(undefined)).toBe("unspecified")
      expect(runModeOf("")).toBe("unspecified")
      for (const nodeEnv of ["prod", "Production"]) {
        const config = loadConfig({ NODE_ENV: nodeEnv, SPACES_JWT_SECRET: secret })
        expect(config.production).toBe(true)
        expect(config.auth.devTokens).toBe(false)
      }
    })

    it("refuses to start with it on in production, whatever the spelling", () => {
      for (const nodeEnv of ["production", "prod", "Production"]) {
        expect(() =>
          loadConfig({ NODE_ENV: nodeEnv, SPACES_JWT_SECRET: secret, SPACES_DEV_AUTH: "true" })
        ).toThrow(/SPACES_DEV_AUTH=true is refused in production/)
        expect(() =>
          loadConfig({ NODE_ENV: nodeEnv, SPACES_JWT_SECRET: secret, SPACES_DEV_AUTH_SERVICES: "true" })
        ).toThrow(/SPACES_DEV_AUTH_SERVICES=true is refused in production/)
      }
    })

    it("mints service identities only when asked for separately", () => {
      expect(loadConfig({ NODE_ENV: "development" }).auth.devServiceTokens).toBe(false)
      expect(loadConfig({ SPACES_DEV_AUTH: "true" }).auth.devServiceTokens).toBe(false)
      expect(
        loadConfig({ NODE_ENV: "development", SPACES_DEV_AUTH_SERVICES: "true" }).auth.devServiceTokens
      ).toBe(true)
      expect(() => loadConfig({ SPACES_DEV_AUTH_SERVICES: "true" })).toThrow(/SPACES_DEV_AUTH_SERVICES/)
    })
  })

  describe("token checks", () => {
    const jwks = "https://id.example.com/.well-known/jwks.json"
    const prod = {
      NODE_ENV: "production",
      SPACES_RECORDING_URL_SECRET: "r".repeat(32),
      SPACES_JWKS_URL: jwks,
      SPACES_JWT_ISSUER: "https://id.example.com"
    }

    it("require the issuer with JWKS in production", () => {
      const { SPACES_JWT_ISSUER: _, ...withoutIssuer } = prod
      expect(() => loadConfig({ ...withoutIssuer, SPACES_JWT_AUDIENCE: "a" })).toThrow(
        /SPACES_JWT_ISSUER is required/
      )
    })

    it("require an audience with JWKS in production, or the explicit opt-out", () => {
      expect(() => loadConfig(prod)).toThrow(/SPACES_JWT_AUDIENCE is required/)
      expect(() => loadConfig({ ...prod, NODE_ENV: "prod" })).toThrow(/SPACES_JWT_AUDIENCE is required/)
      expect(loadConfig({ ...prod, SPACES_JWT_AUDIENCE: "spaces-api" }).auth.audience).toBe("spaces-api")
      expect(loadConfig({ ...prod, SPACES_JWT_ANY_AUDIENCE: "true" }).auth.anyAudience).toBe(true)
      expect(() =>
        loadConfig({ ...prod, SPACES_JWT_AUDIENCE: "a", SPACES_JWT_ANY_AUDIENCE: "true" })
      ).toThrow(/SPACES_JWT_ANY_AUDIENCE/)
      // Outside production the audience stays optional.
      expect(loadConfig({ SPACES_JWKS_URL: jwks }).auth.audience).toBeUndefined()
    })

    it("have a maximum lifetime, at least the issued tokens' own", () => {
      expect(loadConfig({}).auth.maxTokenLifetimeSeconds).toBe(86_400)
      expect(loadConfig({ SPACES_TOKEN_MAX_LIFETIME_SECONDS: "600" }).auth).toMatchObject({
        maxTokenLifetimeSeconds: 600,
        tokenTtlSeconds: 600
      })
      expect(() =>
        loadConfig({ SPACES_TOKEN_MAX_LIFETIME_SECONDS: "600", SPACES_TOKEN_TTL_SECONDS: "601" })
      ).toThrow(/SPACES_TOKEN_TTL_SECONDS/)
    })
  })

  describe("OpenID Connect sign-in for the web client", () => {
    const jwks = "https://id.example.com/jwks"
    it("is off unless a client id is set, and then needs the issuer and JWKS", () => {
      expect(loadConfig({}).auth.oidc).toBeUndefined()
      expect(
        loadConfig({
          SPACES_JWKS_URL: jwks,
          SPACES_JWT_ISSUER: "https://id.example.com",
          SPACES_OIDC_CLIENT_ID: "spaces-web"
        }).auth.oidc
      ).toEqual({
        issuer: "https://id.example.com",
        clientId: "spaces-web",
        scopes: "openid profile offline_access",
        resource: undefined
      })
      expect(() => loadConfig({ SPACES_OIDC_CLIENT_ID: "spaces-web", SPACES_JWKS_URL: jwks })).toThrow(
        /SPACES_OIDC_ISSUER/
      )
      expect(() =>
        loadConfig({ SPACES_OIDC_CLIENT_ID: "spaces-web", SPACES_OIDC_ISSUER: "https://id.example.com" })
      ).toThrow(/SPACES_JWKS_URL/)
      expect(() => loadConfig({ SPACES_OIDC_ISSUER: "https://id.example.com" })).toThrow(
        /SPACES_OIDC_CLIENT_ID/
      )
      // Plain http only for a provider on this machine: the web client refuses it elsewhere.
      const withIssuer = (issuer: string) => () =>
        loadConfig({ SPACES_OIDC_CLIENT_ID: "spaces-web", SPACES_OIDC_ISSUER: issuer, SPACES_JWKS_URL: jwks })
      expect(withIssuer("http://id.example.com")).toThrow(/plain http/)
      expect(withIssuer("http://127.0.0.1:4000")).not.toThrow()
    })
  })

  describe("the recording URL key", () => {
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
    const jwks = "https://id.example.com/.well-known/jwks.json"

    it("is its own variable when set, the token secret otherwise: both are shared by every node", () => {
      const own = loadConfig({
        SPACES_RECORDING_URL_SECRET: "r".repeat(32),
        SPACES_JWT_SECRET: "j".repeat(32)
      })
      expect(own.recordingUrls).toMatchObject({ generatedSecret: false })
      expect(text(own.recordingUrls.secret)).toBe("r".repeat(32))
      const fallback = loadConfig({ SPACES_JWT_SECRET: "j".repeat(32) })
      expect(fallback.recordingUrls.generatedSecret).toBe(false)
      expect(text(fallback.recordingUrls.secret)).toBe("j".repeat(32))
      const withJwks = loadConfig({ SPACES_JWKS_URL: jwks, SPACES_RECORDING_URL_SECRET: "r".repeat(40) })
      expect(text(withJwks.recordingUrls.secret)).toBe("r".repeat(40))
    })

    it("is random per process without either (development), and says so", () => {
      const a = loadConfig({})
      const b = loadConfig({ SPACES_JWKS_URL: jwks })
      expect(a.recordingUrls.generatedSecret).toBe(true)
      expect(b.recordingUrls.generatedSecret).toBe(true)
      expect(a.recordingUrls.secret).toHaveLength(32)
      expect(a.recordingUrls.secret).not.toEqual(b.recordingUrls.secret)
    })

    it("is required in production with JWKS only", () => {
      expect(() =>
        loadConfig({
          NODE_ENV: "production",
          SPACES_JWKS_URL: jwks,
          SPACES_JWT_ISSUER: "https://id.example.com",
          SPACES_JWT_AUDIENCE: "spaces-api"
        })
      ).toThrow(/SPACES_RECORDING_URL_SECRET/)
      const prod = loadConfig({
        NODE_ENV: "production",
        SPACES_JWKS_URL: jwks,
        SPACES_JWT_ISSUER: "https://id.example.com",
        SPACES_JWT_AUDIENCE: "spaces-api",
        SPACES_RECORDING_URL_SECRET: "r".repeat(32)
      })
      expect(prod.recordingUrls.generatedSecret).toBe(false)
    })
  })

  it("opens the same views file as the spaces CLI for any SPACES_DB_PATH", () => {
    const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/)
    const extension = fc.constantFrom("", ".sqlite", ".sqlite3", ".db", ".log", ".sqlite.bak")
    const dbPath = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), extension)
      .map(([parts, ext]) => `/tmp/${parts.join("/")}${ext}`)
    fc.assert(
      fc.property(dbPath, (path) => {
        const server = loadConfig({ SPACES_DB_PATH: path }).views
        expect(server).toEqual({ kind: "sqlite", path: cliViewsPath({ SPACES_DB_PATH: path }) })
      })
    )
    // The case that differed: the CLI kept ".db" and the server replaced it.
    expect(cliViewsPath({ SPACES_DB_PATH: "/tmp/log.db" })).toBe("/tmp/log.views.sqlite")
  })

  it("hardening limits: defaults, overrides, trust proxy, metrics and ops port", () => {
    const d = loadConfig({})
    expect(d.trustProxy).toBe(false)
    expect(d.authFailuresPerMinute).toBe(30)
    expect(d.sse).toEqual({ maxPerUser: 10, maxTotal: 10_000, replayMax: 1_000 })
    expect(d.postsPerMinute).toBe(30)
    expect(d.ops).toEqual({ port: undefined, host: "127.0.0.1", metricsToken: undefined })
    expect(d.media.options).toEqual({})
    expect(loadConfig({ SPACES_TRUST_PROXY: "true" }).trustProxy).toBe(true)
    expect(loadConfig({ SPACES_TRUST_PROXY: "1" }).trustProxy).toBe(1)
    expect(loadConfig({ SPACES_TRUST_PROXY: "loopback, 10.0.0.0/8, ::1" }).trustProxy).toEqual([
      "loopback",
      "10.0.0.0/8",
      "::1"
    ])
    expect(() => loadConfig({ SPACES_TRUST_PROXY: "my-proxy" })).toThrow(/SPACES_TRUST_PROXY/)
    expect(() => loadConfig({ SPACES_TRUST_PROXY: "10.0.0.0/40" })).toThrow(/SPACES_TRUST_PROXY/)
    expect(() => loadConfig({ SPACES_METRICS_TOKEN: "short" })).toThrow(/SPACES_METRICS_TOKEN/)
    expect(() => loadConfig({ SPACES_MEDIA_MAX_TRANSPORTS_PER_USER: "1" })).toThrow(
      /SPACES_MEDIA_MAX_TRANSPORTS_PER_USER/
    )
    expect(
      loadConfig({
        SPACES_MEDIA_MAX_TRANSPORTS_PER_USER: "3",
        SPACES_MEDIA_MAX_PRODUCERS_PER_TRANSPORT: "2",
        SPACES_MEDIA_MAX_CONSUMERS_PER_USER: "20",
        SPACES_OPS_PORT: "9100"
      })
    ).toMatchObject({
      media: { options: { maxTransportsPerUser: 3, maxProducersPerTransport: 2, maxConsumersPerUser: 20 } },
      ops: { port: 9100 }
    })
  })
})
