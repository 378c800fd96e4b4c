import webpush from "web-push"
import { describe, expect, it } from "vitest"
import { ConfigInvalid, loadConfig } from "../config.js"

/** The Web Push part of the configuration: a VAPID key pair with a subject, or nothing pushed. */
describe("Web Push configuration", () => {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys()

  it("is off without keys; keys from `web-push generate-vapid-keys` with a subject turn it on", () => {
    expect(loadConfig({}).push).toEqual({ vapid: undefined, allowInsecureEndpoints: false })
    expect(loadConfig({}).notificationsFanOutThreshold).toBe(2_000)
    const on = loadConfig({
      SPACES_VAPID_PUBLIC_KEY: publicKey,
      SPACES_VAPID_PRIVATE_KEY: privateKey,
      SPACES_VAPID_SUBJECT: "mailto:ops@example.com",
      SPACES_PUSH_ALLOW_HTTP: "true"
    })
    expect(on.push).toEqual({
      vapid: { publicKey, privateKey, subject: "mailto:ops@example.com" },
      allowInsecureEndpoints: true
    })
  })

  it("refuses half a key pair, keys without a subject, and malformed values, naming the variable", () => {
    expect(() => loadConfig({ SPACES_VAPID_PUBLIC_KEY: publicKey })).toThrow(/SPACES_VAPID_PRIVATE_KEY/)
    expect(() =>
      loadConfig({ SPACES_VAPID_PUBLIC_KEY: publicKey, SPACES_VAPID_PRIVATE_KEY: privateKey })
    ).toThrow(/SPACES_VAPID_SUBJECT/)
    expect(() => loadConfig({ SPACES_VAPID_PUBLIC_KEY: "short" })).toThrow(ConfigInvalid)
    expect(() => loadConfig({ SPACES_VAPID_PUBLIC_KEY: "short" })).toThrow(/SPACES_VAPID_PUBLIC_KEY/)
    expect(() => loadConfig({ SPACES_VAPID_SUBJECT: "ops@example.com" })).toThrow(/SPACES_VAPID_SUBJECT/)
    expect(() => loadConfig({ SPACES_NOTIFICATIONS_FAN_OUT_THRESHOLD: "0" })).toThrow(
      /SPACES_NOTIFICATIONS_FAN_OUT_THRESHOLD/
    )
  })
})
