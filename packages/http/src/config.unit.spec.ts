import { describe, expect, it } from "vitest"
import { loadConfig } from "./config.js"

describe("configuration from the environment", () => {
  it("has embedded defaults", () => {
    const config = loadConfig({})
    expect(config.port).toBe(8080)
    expect(config.store).toMatchObject({ kind: "sqlite" })
    expect(config.rules.maxSpeakers).toBe(13)
    expect(config.auth.generatedSecret).toBe(true)
    expect(config.auth.devTokens).toBe(true)
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
    expect(loadConfig({ SPACES_VIEWS_PATH: "memory" }).views).toEqual({ kind: "memory" })
  })

  it("fails fast naming the variable", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrow(/PORT/)
    expect(() => loadConfig({ SPACES_MAX_SPEAKERS: "0" })).toThrow(/SPACES_MAX_SPEAKERS/)
    expect(() => loadConfig({ SPACES_TOPICS: "Not A Slug" })).toThrow(/SPACES_TOPICS/)
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SPACES_JWT_SECRET/)
    expect(() => loadConfig({ SPACES_JWT_SECRET: "short" })).toThrow(/SPACES_JWT_SECRET/)
    expect(() => loadConfig({ SPACES_RECORDING_URL_SECRET: "short" })).toThrow(/SPACES_RECORDING_URL_SECRET/)
  })

  it("turns dev sign-in off in production unless asked", () => {
    const prod = loadConfig({ NODE_ENV: "production", SPACES_JWT_SECRET: "x".repeat(40) })
    expect(prod.auth.devTokens).toBe(false)
    expect(loadConfig({ SPACES_DEV_AUTH: "false" }).auth.devTokens).toBe(false)
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
      expect(() => loadConfig({ NODE_ENV: "production", SPACES_JWKS_URL: jwks })).toThrow(
        /SPACES_RECORDING_URL_SECRET/
      )
      const prod = loadConfig({
        NODE_ENV: "production",
        SPACES_JWKS_URL: jwks,
        SPACES_RECORDING_URL_SECRET: "r".repeat(32)
      })
      expect(prod.recordingUrls.generatedSecret).toBe(false)
    })
  })

  it("hardening limits: defaults, overrides, trust proxy, metrics and ops port", () => {
    const d = loadConfig({})
    expect(d.trustProxy).toBe(false)
    expect(d.authFailuresPerMinute).toBe(30)
    expect(d.sse).toEqual({ maxPerUser: 10, maxTotal: 10_000, replayMax: 1_000 })
    expect(d.postsPerMinute).toBe(10)
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
