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
})
