/**
 * The notifications bell in Chromium: a follower's unread count rises live when the person they
 * follow goes live (no reload), the list links into the Space, and "mark all read" clears it.
 * Push: the page subscribes this device (the browser's push service, which headless Chromium
 * can't reach, is replaced by one on loopback: the page's PushManager answers with the test's
 * subscription), the server pushes there, the test decrypts the message and hands it to the
 * page's service worker, which shows it as a system notification.
 */
import { createECDH, createDecipheriv, hkdfSync, randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { Browser } from "playwright-core"
import webpush from "web-push"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launchChromium, type Person, type RunningSpaces, signIn, startSpaces } from "./harness.js"

const api = async (url: string, user: string) => {
  const issued = await fetch(`${url}/v1/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user })
  })
  const { token } = (await issued.json()) as { token: string }
  return async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`)
    return answer.json() as Promise<unknown>
  }
}

/** RFC 8291 (aes128gcm): the message's plaintext, for the browser keys that subscribed. */
const decrypt = (ecdh: ReturnType<typeof createECDH>, auth: Buffer, body: Buffer) => {
  const salt = body.subarray(0, 16)
  const idLength = body[20]!
  const serverPublic = body.subarray(21, 21 + idLength)
  const records = body.subarray(21 + idLength)
  const info = Buffer.concat([Buffer.from("WebPush: info\0"), ecdh.getPublicKey(), serverPublic])
  const ikm = Buffer.from(hkdfSync("sha256", ecdh.computeSecret(serverPublic), auth, info, 32))
  const key = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16))
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12))
  const decipher = createDecipheriv("aes-128-gcm", key, nonce)
  decipher.setAuthTag(records.subarray(records.length - 16))
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()])
  let end = padded.length - 1
  while (padded[end] === 0) end--
  return padded.subarray(0, end).toString("utf8")
}

describe("the notifications bell", () => {
  let spaces: RunningSpaces
  let browser: Browser
  let fay: Person | undefined
  let pushService: Server
  let origin = ""
  const pushes: Array<{ path: string; body: Buffer }> = []

  beforeAll(async () => {
    pushService = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        pushes.push({ path: req.url ?? "", body: Buffer.concat(chunks) })
        res.statusCode = 201
        res.end()
      })
    })
    await new Promise<void>((resolve) => pushService.listen(0, "127.0.0.1", resolve))
    origin = `http://127.0.0.1:${(pushService.address() as AddressInfo).port}`
    const vapid = webpush.generateVAPIDKeys()
    spaces = await startSpaces({
      SPACES_VAPID_PUBLIC_KEY: vapid.publicKey,
      SPACES_VAPID_PRIVATE_KEY: vapid.privateKey,
      SPACES_VAPID_SUBJECT: "mailto:ops@spaces.test",
      SPACES_PUSH_ALLOW_HTTP: "true"
    })
    browser = await launchChromium()
  })
  afterAll(async () => {
    await fay?.context.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
    await new Promise((resolve) => pushService?.close(resolve))
  })

  it("counts unread live, lists with links into the Space, and marks all read", async () => {
    const fayApi = await api(spaces.url, "fay")
    const hana = await api(spaces.url, "hana")
    await fayApi("PUT", "/v1/me/following/hana")
    fay = await signIn(browser, spaces.url, "fay")
    const { page } = fay
    const bell = page.getByRole("button", { name: /^Notifications, \d+ unread$/ })
    await bell.waitFor()
    expect(await bell.getAttribute("aria-label")).toBe("Notifications, 0 unread")

    await hana("POST", "/v1/spaces", {
      spaceId: "bell-1",
      title: "Bells & whistles",
      topics: [],
      speakPolicy: "everyone",
      recording: false,
      captions: false
    })
    await page.getByRole("button", { name: "Notifications, 1 unread" }).waitFor({ timeout: 10_000 })
    await page.getByRole("button", { name: "Notifications, 1 unread" }).click()
    const link = page.getByRole("link", { name: "hana started a Space: “Bells & whistles”" })
    await link.waitFor()
    expect(await link.getAttribute("href")).toBe("/#/space/bell-1")

    await page.getByRole("button", { name: "Mark all read" }).click()
    await page.getByRole("button", { name: "Notifications, 0 unread" }).waitFor({ timeout: 10_000 })
    await page.getByRole("button", { name: "Notifications, 0 unread" }).click()
    await page.getByRole("button", { name: "Notifications, 0 unread" }).click()
    await link.click()
    await page.waitForURL(/#\/space\/bell-1$/)
    await page.getByRole("heading", { name: "Bells & whistles" }).waitFor({ timeout: 10_000 })
  })

  it("subscribes this device to push; the service worker shows the pushed notification", async () => {
    const ecdh = createECDH("prime256v1")
    ecdh.generateKeys()
    const auth = randomBytes(16)
    const subscription = {
      endpoint: `${origin}/push/gil`,
      expirationTime: null,
      keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") }
    }
    const gilApi = await api(spaces.url, "gil")
    const ines = await api(spaces.url, "ines")
    await gilApi("PUT", "/v1/me/following/ines")
    const gil = await signIn(browser, spaces.url, "gil", undefined, async (page) => {
      await page.context().grantPermissions(["notifications"])
      // The loopback push service stands in for the browser's: subscribe answers the test's keys.
      await page.evaluate(`(() => {
        const fake = { endpoint: ${JSON.stringify(subscription.endpoint)}, toJSON: () => (${JSON.stringify(subscription)}) }
        PushManager.prototype.subscribe = async () => fake
        PushManager.prototype.getSubscription = async () => null
      })()`)
    })
    try {
      const { page } = gil
      await page.getByRole("button", { name: /^Notifications, \d+ unread$/ }).click()
      await page.getByRole("button", { name: "Push on this device" }).click()
      await page.getByText("Push notifications are on for this device.").waitFor({ timeout: 10_000 })

      await ines("POST", "/v1/spaces", {
        spaceId: "bell-push",
        title: "Pushed",
        topics: [],
        speakPolicy: "everyone",
        recording: false,
        captions: false
      })
      const until = Date.now() + 10_000
      while (!pushes.some((p) => p.path === "/push/gil") && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 50))
      const pushed = pushes.find((p) => p.path === "/push/gil")
      expect(pushed, "the server pushed to the subscribed endpoint").toBeDefined()
      const message = decrypt(ecdh, auth, pushed!.body)
      expect(JSON.parse(message)).toMatchObject({
        spaceId: "bell-push",
        body: "ines started a Space: “Pushed”"
      })

      // Hand the message to the page's service worker, as the browser's push service would.
      const cdp = await page.context().newCDPSession(page)
      const registrations = new Promise<string>((resolve) =>
        cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }) => {
          const ours = registrations.find((r) => r.scopeURL === `${spaces.url}/` && !r.isDeleted)
          if (ours !== undefined) resolve(ours.registrationId)
        })
      )
      await cdp.send("ServiceWorker.enable")
      const registrationId = await registrations
      // A push delivered while the worker is still installing can be dropped: wait until it is active.
      await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
      // CDP's delivery is the test's stand-in for the browser's push service, and a delivery that
      // races the worker's start-up is dropped without an error; so hand it over again (as a push
      // service retries) until the worker shows it, at most three times.
      let shown: unknown = []
      for (let attempt = 0; attempt < 3 && (shown as Array<unknown>).length === 0; attempt++) {
        await cdp.send("ServiceWorker.deliverPushMessage", {
          origin: spaces.url,
          registrationId,
          data: message
        })
        shown = await page.evaluate(`(async () => {
          const registration = await navigator.serviceWorker.ready
          for (let i = 0; i < 200; i++) {
            const shown = await registration.getNotifications()
            if (shown.length > 0) return shown.map((n) => ({ title: n.title, body: n.body, url: n.data && n.data.url }))
            await new Promise((resolve) => setTimeout(resolve, 50))
          }
          return []
        })()`)
      }
      expect(shown).toEqual([
        { title: "Spaces", body: "ines started a Space: “Pushed”", url: "/#/space/bell-push" }
      ])
    } finally {
      await gil.context.close()
    }
  })
})
