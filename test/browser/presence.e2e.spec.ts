/**
 * Presence in Chromium: the host closes their tab; after the (shortened) disconnect grace the
 * system leaves them on their behalf (the host is away), and after the (shortened) host grace the
 * Space ends on the listener's page and leaves the follower's live bar. A listener whose tab
 * reloads within the grace is never left, and their reloaded page shows the room's captions and
 * posts from the room view. The share button copies the Space's share link.
 */
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  appendCaption,
  eventually,
  launchChromium,
  type Person,
  type RunningSpaces,
  signIn,
  startSpaces
} from "./harness.js"

/** Long enough for a reload on a busy machine, short enough for a test. */
const DISCONNECT_GRACE_MS = 5_000
const HOST_GRACE_SECONDS = 3
const title = "Presence check"

interface LoggedEvent {
  readonly position: number
  readonly event: { readonly _tag: string; readonly user?: string; readonly reason?: string }
}

/** The Space's log, as any signed-in user reads it. */
const logOf = async (url: string, spaceId: string): Promise<ReadonlyArray<LoggedEvent>> => {
  const json = { "content-type": "application/json" }
  const issued = await fetch(`${url}/v1/dev/token`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ user: "log-reader" })
  })
  const { token } = (await issued.json()) as { token: string }
  const log = await fetch(`${url}/v1/spaces/${encodeURIComponent(spaceId)}/events`, {
    headers: { authorization: `Bearer ${token}` }
  })
  return (await log.json()) as ReadonlyArray<LoggedEvent>
}

describe("presence in the web client", () => {
  let spaces: RunningSpaces
  let browser: Browser
  const people: Array<Person> = []

  beforeAll(async () => {
    spaces = await startSpaces({
      SPACES_DISCONNECT_GRACE_MS: String(DISCONNECT_GRACE_MS),
      SPACES_HOST_GRACE_SECONDS: String(HOST_GRACE_SECONDS)
    })
    browser = await launchChromium()
  })

  afterAll(async () => {
    for (const person of people) await person.context.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
  })

  it("a closed host tab ends the Space after both graces; a reloaded listener tab stays in", async () => {
    const fola = await signIn(browser, spaces.url, "fola")
    people.push(fola)
    await fola.page.getByLabel("User to follow").fill("hana")
    await fola.page.getByRole("button", { name: "Follow", exact: true }).click()
    await fola.page.getByText("You follow hana").waitFor()

    const hana = await signIn(browser, spaces.url, "hana")
    people.push(hana)
    const host = hana.page
    await host.getByLabel("Title").fill(title)
    await host.getByLabel("Show captions").check()
    await host.getByRole("button", { name: "Create Space" }).click()
    await host.getByRole("heading", { level: 1, name: title }).waitFor()
    // The host speaks: their page holds a media transport as well as the room's stream.
    await host.getByRole("button", { name: "Unmute" }).click()
    await host.getByRole("button", { name: "Mute", exact: true }).waitFor()
    const spaceId = decodeURIComponent(host.url().split("#/space/")[1] ?? "")
    expect(spaceId).not.toBe("")

    const liveBar = fola.page.getByRole("region", { name: "Live now" })
    await liveBar.getByRole("link", { name: title }).waitFor()

    // A listener joins and posts; the host speaks (a final caption lands in the log).
    const lee = await signIn(browser, spaces.url, "lee")
    people.push(lee)
    const listener = lee.page
    await listener.goto(`/#/space/${encodeURIComponent(spaceId)}`)
    await listener.getByRole("button", { name: "Join this Space" }).click()
    await listener.getByRole("button", { name: "Request to speak" }).waitFor()
    await listener.getByLabel("Post about this Space").fill("Glad to be here")
    await listener.getByRole("button", { name: "Post", exact: true }).click()
    await appendCaption(spaces.url, spaceId, {
      speaker: "hana",
      text: "Welcome, everyone",
      startMs: 0,
      endMs: 900
    })
    await listener.getByRole("log").getByText("Welcome, everyone").waitFor()

    // The share button copies the share link (this Chromium has no system share sheet to open).
    await lee.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: spaces.url })
    await listener.evaluate("delete Navigator.prototype.share")
    await listener.getByRole("button", { name: "Share" }).click()
    await listener.getByText("Link copied").waitFor()
    expect(await listener.evaluate("navigator.clipboard.readText()")).toBe(
      `${spaces.url}/s/${encodeURIComponent(spaceId)}`
    )

    // The listener's tab reloads: within the grace, nothing changes; the reloaded page shows the
    // caption and the post from the room view (its live stream starts after the view).
    await listener.reload()
    await listener.locator(".room-header[data-connection=open]").waitFor()
    await listener.getByRole("log").getByText("Welcome, everyone").waitFor()
    await listener.getByRole("list", { name: "Posts" }).getByText("Glad to be here").waitFor()
    await listener.getByRole("button", { name: "Request to speak" }).waitFor()

    // The host closes the tab. After the disconnect grace the system leaves them: the host is away.
    await host.close()
    await listener
      .getByText(/The host stepped away; the Space ends at .* unless they return\./)
      .waitFor({ timeout: 60_000 })
    const away = await logOf(spaces.url, spaceId)
    expect(away.find((e) => e.event._tag === "HostLeft")?.event).toMatchObject({
      user: "hana",
      reason: "disconnected"
    })

    // After the host's grace the Space ends for the listener and leaves the follower's live bar.
    await listener.getByText("This Space has ended.").waitFor({ timeout: 60_000 })
    await liveBar.getByRole("link", { name: title }).waitFor({ state: "detached", timeout: 30_000 })
    await liveBar.getByText("No one you follow is live right now.").waitFor()

    // The reloaded listener was never shown as having left: the log has no leave of theirs.
    const log = await logOf(spaces.url, spaceId)
    expect(log.filter((e) => e.event._tag === "ParticipantLeft")).toEqual([])
    expect(log.at(-1)?.event).toMatchObject({ _tag: "SpaceEnded", reason: "host_absent" })
    // The listener held their connection the whole time: their reload never started a leave.
    expect(
      await eventually("the log to settle", async () =>
        (await logOf(spaces.url, spaceId)).length === log.length ? true : undefined
      )
    ).toBe(true)
  })
})
