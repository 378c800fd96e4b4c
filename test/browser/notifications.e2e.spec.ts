/**
 * The notifications bell in Chromium: a follower's unread count rises live when the person they
 * follow goes live (no reload), the list links into the Space, and "mark all read" clears it.
 */
import type { Browser } from "playwright-core"
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

describe("the notifications bell", () => {
  let spaces: RunningSpaces
  let browser: Browser
  let fay: Person | undefined

  beforeAll(async () => {
    spaces = await startSpaces()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await fay?.context.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
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
})
