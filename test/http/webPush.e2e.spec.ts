import { createECDH, createDecipheriv, hkdfSync, randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { importJWK, jwtVerify } from "jose"
import webpush from "web-push"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, client, startTestServer, type TestServer } from "./harness.js"

/**
 * Web Push end to end: a push service on loopback receives what the server sends, checks the VAPID
 * signature (RFC 8292) and decrypts the payload (RFC 8291, aes128gcm) with the browser keys the test
 * made for the subscription.
 */

interface Received {
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Buffer
}

const b64url = (bytes: Buffer) => bytes.toString("base64url")

/** A browser's side of a subscription: its P-256 key pair and auth secret. */
const browserKeys = () => {
  const ecdh = createECDH("prime256v1")
  ecdh.generateKeys()
  return { ecdh, publicKey: ecdh.getPublicKey(), auth: randomBytes(16) }
}

/** RFC 8291 §3.4 + RFC 8188: decrypts an aes128gcm message for the browser that owns `keys`. */
const decrypt = (keys: ReturnType<typeof browserKeys>, body: Buffer) => {
  const salt = body.subarray(0, 16)
  const recordSize = body.readUInt32BE(16)
  const idLength = body[20]!
  const serverPublic = body.subarray(21, 21 + idLength)
  const records = body.subarray(21 + idLength)
  expect(records.length).toBeLessThanOrEqual(recordSize)
  const shared = keys.ecdh.computeSecret(serverPublic)
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), keys.publicKey, serverPublic])
  const ikm = Buffer.from(hkdfSync("sha256", shared, keys.auth, keyInfo, 32))
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16))
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12))
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce)
  decipher.setAuthTag(records.subarray(records.length - 16))
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()])
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  expect(padded[end]).toBe(2)
  return JSON.parse(padded.subarray(0, end).toString("utf8")) as Record<string, unknown>
}

/** The VAPID header: a JWT signed with the server's private key, for the push service's origin. */
const verifyVapid = async (authorization: string | undefined, publicKey: string, audience: string) => {
  const match = /^vapid t=([^,\s]+),\s*k=(\S+)$/.exec(authorization ?? "")
  expect(match, `Authorization: ${authorization}`).not.toBeNull()
  expect(match![2]).toBe(publicKey)
  const point = Buffer.from(publicKey, "base64url")
  const key = await importJWK(
    { kty: "EC", crv: "P-256", x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
    "ES256"
  )
  const { payload } = await jwtVerify(match![1]!, key, { audience })
  expect(payload.sub).toBe("mailto:ops@spaces.test")
}

describe("Web Push", () => {
  let t: TestServer
  let pushService: Server
  let origin = ""
  const received: Array<Received> = []
  const waiters = new Set<() => void>()
  let status = 201
  const vapid = webpush.generateVAPIDKeys()

  const nextPush = (path: string, timeoutMs = 5000) =>
    new Promise<Received>((resolve, reject) => {
      const check = () => {
        const found = received.find((r) => r.path === path)
        if (found === undefined) return false
        received.splice(received.indexOf(found), 1)
        waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no push to ${path} within ${timeoutMs}ms`))
      }, timeoutMs)
      if (!check()) waiters.add(check)
    })

  beforeAll(async () => {
    pushService = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) })
        res.statusCode = status
        res.end()
        for (const w of [...waiters]) w()
      })
    })
    await new Promise<void>((resolve) => pushService.listen(0, "127.0.0.1", resolve))
    origin = `http://127.0.0.1:${(pushService.address() as AddressInfo).port}`
    t = await startTestServer({
      SPACES_VAPID_PUBLIC_KEY: vapid.publicKey,
      SPACES_VAPID_PRIVATE_KEY: vapid.privateKey,
      SPACES_VAPID_SUBJECT: "mailto:ops@spaces.test",
      SPACES_PUSH_ALLOW_HTTP: "true"
    })
  })
  afterAll(async () => {
    await t.close()
    await new Promise((resolve) => pushService.close(resolve))
  })

  const ok = (a: Answer, expected = 200) => {
    if (a.status !== expected) throw new Error(`expected ${expected}, got ${a.status}: ${a.text}`)
    return a
  }

  it("pushes a notification to the subscribed browser, encrypted for its keys and signed with VAPID", async () => {
    const pia = await client(t.url, "pia")
    const ned = await client(t.url, "ned")
    const bystander = await client(t.url, "bo")
    expect(ok(await pia.call("GET", "/v1/push/key")).body).toEqual({ publicKey: vapid.publicKey })
    const keys = browserKeys()
    const otherKeys = browserKeys()
    const subscription = {
      endpoint: `${origin}/push/pia`,
      expirationTime: null,
      keys: { p256dh: b64url(keys.publicKey), auth: b64url(keys.auth) }
    }
    ok(await pia.call("POST", "/v1/me/push-subscriptions", subscription), 201)
    // Subscribed, but follows nobody: must get nothing.
    ok(
      await bystander.call("POST", "/v1/me/push-subscriptions", {
        endpoint: `${origin}/push/bo`,
        keys: { p256dh: b64url(otherKeys.publicKey), auth: b64url(otherKeys.auth) }
      }),
      201
    )
    ok(await pia.call("PUT", "/v1/me/following/ned"))
    ok(
      await ned.call("POST", "/v1/spaces", {
        spaceId: "push-1",
        title: "Push me",
        topics: [],
        speakPolicy: "everyone",
        recording: false,
        captions: false
      }),
      201
    )
    const push = await nextPush("/push/pia")
    expect(push.headers["content-encoding"]).toBe("aes128gcm")
    expect(Number(push.headers.ttl)).toBeGreaterThan(0)
    await verifyVapid(push.headers.authorization, vapid.publicKey, origin)
    const payload = decrypt(keys, push.body)
    expect(payload).toMatchObject({
      kind: "space-started",
      spaceId: "push-1",
      url: "/#/space/push-1",
      body: "ned started a Space: “Push me”"
    })
    // The same notification is in the list, under the same id.
    const list = ok(await pia.call("GET", "/v1/me/notifications")).body as {
      notifications: ReadonlyArray<{ id: number }>
    }
    expect(list.notifications[0]!.id).toBe(payload.id)
    // Wrong keys can't read it: the payload really is encrypted for the subscription.
    expect(() => decrypt(otherKeys, push.body)).toThrow()
    expect(received.filter((r) => r.path === "/push/bo")).toEqual([])
  })

  it("drops a subscription the push service says is gone, and stops pushing after unsubscribe", async () => {
    const kim = await client(t.url, "kim")
    const ned = await client(t.url, "ned2")
    const keys = browserKeys()
    const subscribe = (path: string) =>
      kim.call("POST", "/v1/me/push-subscriptions", {
        endpoint: `${origin}${path}`,
        keys: { p256dh: b64url(keys.publicKey), auth: b64url(keys.auth) }
      })
    ok(await subscribe("/push/kim-gone"), 201)
    ok(await kim.call("PUT", "/v1/me/following/ned2"))
    const schedule = (spaceId: string) =>
      ned.call("POST", "/v1/spaces", {
        spaceId,
        title: spaceId,
        topics: [],
        speakPolicy: "everyone",
        recording: false,
        captions: false,
        scheduledFor: Date.now() + 30 * 60_000
      })
    status = 410
    ok(await schedule("gone-1"), 201)
    await nextPush("/push/kim-gone")
    status = 201
    // The gone subscription is dropped: the next notification goes only to the new one.
    ok(await subscribe("/push/kim-new"), 201)
    ok(await schedule("gone-2"), 201)
    expect(decrypt(keys, (await nextPush("/push/kim-new")).body)).toMatchObject({ spaceId: "gone-2" })
    expect(received.filter((r) => r.path === "/push/kim-gone")).toEqual([])

    const unsubscribe = await kim.call(
      "DELETE",
      `/v1/me/push-subscriptions?endpoint=${encodeURIComponent(`${origin}/push/kim-new`)}`
    )
    expect(unsubscribe.status).toBe(204)
    ok(await subscribe("/push/kim-last"), 201)
    ok(await schedule("gone-3"), 201)
    expect(decrypt(keys, (await nextPush("/push/kim-last")).body)).toMatchObject({ spaceId: "gone-3" })
    expect(received.filter((r) => r.path === "/push/kim-new")).toEqual([])
  })

  it("refuses malformed subscriptions", async () => {
    const kim = await client(t.url, "kim")
    const bad = await kim.call("POST", "/v1/me/push-subscriptions", { endpoint: "not a url", keys: {} })
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ type: "https://spaces.dev/problems/malformed-request" })
  })
})

describe("Web Push without VAPID keys", () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer()
  })
  afterAll(() => t.close())

  it("answers 503 push-not-configured for the key and for subscribing", async () => {
    const kim = await client(t.url, "kim")
    const key = await kim.call("GET", "/v1/push/key")
    expect(key.status).toBe(503)
    expect(key.body).toMatchObject({ type: "https://spaces.dev/problems/push-not-configured" })
    const keys = browserKeys()
    const subscribe = await kim.call("POST", "/v1/me/push-subscriptions", {
      endpoint: "https://push.example/abc",
      keys: { p256dh: b64url(keys.publicKey), auth: b64url(keys.auth) }
    })
    expect(subscribe.status).toBe(503)
  })
})
