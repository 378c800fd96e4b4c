/**
 * Three people in three browser contexts, real audio through the real SFU: a host speaks, a
 * listener follows the room before joining, hears them, raises a hand, is approved and is heard,
 * mutes themselves (the browser stops sending and releases the mic), is muted by the host and then
 * removed (and can't come back); a follower sees the Space in the live bar while it is live and
 * not after; the recorded host's track plays back on the replay. A host who leaves the room while
 * their microphone is being published leaves nothing on the air. Screenshots of the main screens
 * go to docs/screenshots.
 */
import { mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import type { Browser, Page, Request } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  appendCaption,
  audioFlows,
  audioStopped,
  captures,
  eventually,
  holdCapture,
  holdRequests,
  inboundFrom,
  launchChromium,
  micSending,
  micSilenced,
  type Person,
  phone,
  producersIn,
  recordedAudio,
  type RunningSpaces,
  signIn,
  startSpaces
} from "./harness.js"

/**
 * Screenshots go to test-results/screenshots (ignored by git) so that `npm test` leaves the tree
 * clean; `SPACES_SCREENSHOTS_DIR=docs/screenshots` refreshes the committed ones.
 */
const root = join(import.meta.dirname, "..", "..")
const shots = resolve(root, process.env.SPACES_SCREENSHOTS_DIR ?? "test-results/screenshots")
const shot = async (page: Page, name: string) => {
  await page.evaluate("window.scrollTo(0, 0)")
  await page.screenshot({ path: join(shots, `${name}.png`) })
}

/** A `datetime-local` value for tomorrow at this time (the browser and the test share a clock and zone). */
const tomorrow = () => {
  const d = new Date(Date.now() + 24 * 3600_000)
  const two = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`
}

const title = "Morning show: open mic"

describe("the web client in Chromium", () => {
  let spaces: RunningSpaces
  let browser: Browser
  const people: Array<Person> = []

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    spaces = await startSpaces()
    browser = await launchChromium()
  })

  afterAll(async () => {
    for (const person of people) await person.context.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
  })

  it("carries a host's and an approved speaker's audio, mutes and removes, and runs the room's social side and keeps the live bar current", async () => {
    // A follower of the host; the sign-in screen is captured on their way in (desktop and phone).
    const fola = await signIn(browser, spaces.url, "fola", undefined, (page) => shot(page, "sign-in"))
    people.push(fola)
    await fola.page.getByLabel("User to follow").fill("hana")
    await fola.page.getByRole("button", { name: "Follow", exact: true }).click()
    await fola.page.getByText("You follow hana").waitFor()

    // The host creates a recorded live Space from the form and unmutes (hosts start muted).
    const hana = await signIn(browser, spaces.url, "hana")
    people.push(hana)
    const host = hana.page
    await host.getByLabel("Title").fill(title)
    const topics = host.getByRole("group", { name: /Topics/ })
    await topics.getByLabel("music", { exact: true }).check()
    await topics.getByLabel("technology", { exact: true }).check()
    await host.getByLabel("Show captions").check()
    await host.getByLabel("Record this Space").check()
    await shot(host, "create-form")
    await host.getByRole("button", { name: "Create Space" }).click()
    await host.getByRole("heading", { level: 1, name: title }).waitFor()
    await host.getByText("● Recording").waitFor()
    // Muted from the start: nothing captured yet.
    expect(await micSilenced(host)).toBe("not publishing")
    await host.getByRole("button", { name: "Unmute" }).click()
    await host.getByRole("button", { name: "Mute", exact: true }).waitFor()
    await micSending(host)

    // The follower's live bar shows it while it is live.
    const liveBar = fola.page.getByRole("region", { name: "Live now" })
    await liveBar.getByRole("link", { name: title }).waitFor()
    await shot(fola.page, "live-bar")

    // A listener on a phone finds it by search. Before joining, the page follows the room live:
    // a post the host makes shows up without a reload. Then they join; the host's audio reaches them.
    const lee = await signIn(browser, spaces.url, "lee", phone, (page) => shot(page, "sign-in-phone"))
    people.push(lee)
    const listener = lee.page
    await listener.getByLabel("Search Spaces").fill("morning")
    await listener.getByRole("button", { name: "Search" }).click()
    await listener.getByRole("link", { name: title }).click()
    await listener.getByText("1 on stage · 0 listening").waitFor()
    await listener.locator(".room-header[data-connection=open]").waitFor()
    await host.getByLabel("Post about this Space").fill("Welcome to the morning show")
    await host.getByRole("button", { name: "Post", exact: true }).click()
    await listener.getByRole("list", { name: "Posts" }).getByText("Welcome to the morning show").waitFor()
    expect(await listener.locator(".room").getAttribute("data-role")).toBe("none")
    await shot(listener, "room-viewer-phone")
    await listener.getByRole("button", { name: "Join this Space" }).click()
    await listener.getByRole("button", { name: "Request to speak" }).waitFor()
    const heard = await audioFlows(listener, "hana")
    expect(heard.packetsReceived).toBeGreaterThan(0)
    expect(heard.totalAudioEnergy + heard.audioLevel).toBeGreaterThan(0)

    // Raise hand, the host approves, the new speaker unmutes: their audio reaches the host.
    // By keyboard: Enter on the focused button; focus stays on the control as its label flips.
    await listener.getByRole("button", { name: "Request to speak" }).press("Enter")
    await listener.getByRole("button", { name: "Lower hand" }).waitFor()
    await expect.poll(() => listener.evaluate("document.activeElement?.textContent")).toBe("Lower hand")
    await host.getByRole("button", { name: "Approve lee" }).click()
    await listener.getByRole("button", { name: "Unmute" }).click()
    await listener.getByRole("button", { name: "Mute", exact: true }).waitFor()
    const fromLee = await audioFlows(host, "lee")
    expect(fromLee.packetsReceived).toBeGreaterThan(0)

    // Self-mute silences the microphone in the browser too: the producer stops sending and the
    // capture is released; unmuting captures again into the same producer, heard again.
    await listener.getByRole("button", { name: "Mute", exact: true }).click()
    await listener.getByRole("button", { name: "Unmute" }).waitFor()
    expect(await micSilenced(listener)).toMatch(/^released, stopped at \d+$/)
    expect(await audioStopped(host, "lee")).toMatch(/^stopped at \d+$/)
    await listener.getByRole("button", { name: "Unmute" }).click()
    await listener.getByRole("button", { name: "Mute", exact: true }).waitFor()
    await micSending(listener)
    await audioFlows(host, "lee")
    await host.getByRole("listitem").filter({ hasText: "lee" }).getByText("Mic on").waitFor()
    await shot(host, "room-host")
    await shot(listener, "room-listener-phone")

    // The host mutes them: their audio stops reaching the host (the consumer stays, packets stop).
    await host.getByRole("button", { name: "Mute lee" }).click()
    await host.getByRole("listitem").filter({ hasText: "lee" }).getByText("Muted").waitFor()
    expect(await audioStopped(host, "lee")).toMatch(/^stopped at \d+$|^no consumer$/)
    // The room state says lee is muted, so lee's browser silences the mic as for a self-mute.
    expect(await micSilenced(listener)).toMatch(/^released, stopped at \d+$/)

    // Removed: their page says so, and they can't join again.
    await host.getByRole("button", { name: "Remove lee" }).click()
    await listener.getByText("You were removed from this Space.").waitFor()
    await eventually("lee's audio to be dropped", async () =>
      (await inboundFrom(host, "lee")) === undefined ? true : undefined
    )
    await listener.reload()
    await listener.getByRole("button", { name: "Join this Space" }).click()
    await listener.getByText("You can't join: you were removed from this Space.").waitFor()
    expect(await listener.locator(".room").getAttribute("data-role")).toBe("none")
    await listener.getByRole("alert").getByText("You were removed from this Space.").waitFor()

    // The follower joins from the live bar: a reaction, a post the host pins, a caption from the
    // transcription service; invited to speak, made co-host, and stepping down again.
    const follower = fola.page
    await liveBar.getByRole("link", { name: title }).click()
    await follower.getByRole("button", { name: "Join this Space" }).click()
    await follower.getByRole("button", { name: "Request to speak" }).waitFor()
    await follower.getByRole("button", { name: "React 👏" }).click()
    await host.getByRole("list", { name: "Recent reactions" }).getByText("fola").waitFor()
    await follower.getByLabel("Post about this Space").fill("Great show!")
    await follower.getByRole("button", { name: "Post", exact: true }).click()
    await host.getByRole("button", { name: "Pin post by fola" }).click()
    await follower.getByRole("list", { name: "Pinned post" }).getByText("Great show!").waitFor()
    const spaceId = decodeURIComponent(new URL(host.url()).hash.replace("#/space/", ""))
    await appendCaption(spaces.url, spaceId, {
      speaker: "hana",
      text: "Welcome, everyone",
      startMs: 0,
      endMs: 1500
    })
    await follower.getByRole("log").getByText("Welcome, everyone").waitFor()
    await shot(follower, "room-posts-captions")
    await host.getByRole("button", { name: "Invite fola to speak" }).click()
    await follower.getByRole("button", { name: "Accept", exact: true }).click()
    await host.getByRole("button", { name: "Make fola co-host" }).click()
    await follower.getByRole("button", { name: "Accept co-host" }).click()
    await host
      .getByRole("listitem")
      .filter({ hasText: "fola" })
      .getByText("Co-host", { exact: true })
      .waitFor()
    await follower.getByRole("button", { name: "Step down" }).click()
    await follower.getByRole("button", { name: "Request to speak" }).waitFor()
    await follower.getByRole("link", { name: "Spaces", exact: true }).click()
    await liveBar.getByRole("link", { name: title }).waitFor()

    // The host ends the Space: it leaves the follower's live bar.
    await host.getByRole("button", { name: "End Space" }).click()
    await host.getByText("This Space has ended.").waitFor()
    await liveBar.getByRole("link", { name: title }).waitFor({ state: "detached" })
    await liveBar.getByText("No one you follow is live right now.").waitFor()

    // The replay: the event log, and the state at an earlier point (the listener still on stage).
    await host.getByRole("link", { name: "Replay its history" }).click()
    const log = host.getByRole("list", { name: "Event log" })
    await log.getByText(/ParticipantRemoved — lee/).waitFor()
    await log.getByRole("button", { name: /SpeakRequestApproved/ }).click()
    await host.getByText("lee — speaker, muted").waitFor()

    // The recording: a player per recorded speaker; the host's track loads in Chromium and
    // decodes to sound (the fake microphone plays a tone), not silence.
    const recording = host.getByRole("region", { name: "Recording" })
    await recording.getByLabel(/^Recording of hana/).waitFor()
    const played = await recordedAudio(host, /^Recording of hana/)
    expect(played.readyState).toBeGreaterThanOrEqual(1)
    expect(played.duration).toBeGreaterThan(0)
    expect(played.decodedSeconds).toBeGreaterThan(1)
    expect(played.peak).toBeGreaterThan(0.01)
    await shot(host, "replay")

    // The removed listener's page followed the room to its end; its replay fits a phone too.
    await listener.getByText("This Space has ended.").waitFor()
    await listener.getByRole("link", { name: "Replay its history" }).click()
    await listener
      .getByRole("region", { name: "Recording" })
      .getByLabel(/^Recording of hana/)
      .waitFor()
    await shot(listener, "replay-phone")

    // Scheduling: the host's next Space is listed as scheduled, ready to start early or cancel.
    await host.getByRole("link", { name: "Spaces", exact: true }).click()
    await host.getByLabel("Title").fill("Tomorrow's show")
    await host.getByLabel(/Schedule for/).fill(tomorrow())
    await host.getByRole("button", { name: "Create Space" }).click()
    const scheduled = host.getByRole("list", { name: "Your scheduled Spaces" })
    await scheduled.getByText("Tomorrow's show").waitFor()
    await scheduled.getByRole("button", { name: "Start now" }).waitFor()
  })

  it("leaves nothing on the air when the room is left while the microphone is being published", async () => {
    const mo = await signIn(browser, spaces.url, "mo")
    people.push(mo)
    const page = mo.page
    const heading = page.getByRole("heading", { level: 1, name: "Left in a hurry" })
    await page.getByLabel("Title").fill("Left in a hurry")
    await page.getByRole("button", { name: "Create Space" }).click()
    await heading.waitFor()
    const room = new URL(page.url()).hash
    const spaceId = decodeURIComponent(room.replace("#/space/", ""))
    // Away to the list of Spaces (no Leave: mo stays on stage, unmuted); back by the address.
    const leaveRoom = async () => {
      await page.getByRole("link", { name: "Spaces", exact: true }).click()
      await heading.waitFor({ state: "detached" })
    }
    const enterRoom = () => page.evaluate(`location.hash = ${JSON.stringify(room)}`)
    /** Every capture made so far (`made`) has ended, and the server holds no producer of mo's. */
    const nothingOnAir = async (made: number) => {
      await eventually(`all ${made} captures to be stopped`, async () => {
        const now = await captures(page)
        return now.made === made && now.live === 0 ? now : undefined
      })
      const producers = await producersIn(spaces.url, spaceId)
      expect(producers.filter((p) => p.userId === "mo")).toEqual([])
    }
    const transportRequest = (direction: "send" | "recv") => (request: Request) =>
      request.method() === "POST" &&
      request.url().endsWith("/media/transports") &&
      (request.postDataJSON() as { direction?: string }).direction === direction
    const isProduce = (request: Request) =>
      request.method() === "POST" && request.url().endsWith("/media/produce")
    const isTransportClose = (request: Request) =>
      request.method() === "DELETE" && request.url().includes("/media/transports/")
    const answered = (match: (request: Request) => boolean) =>
      page.waitForResponse((response) => match(response.request()), { timeout: 20_000 })
    const closedOnServer = () => answered(isTransportClose)
    // What the page asked of the server after the room was left: the earlier it stops, the better.
    const sent = { sendTransports: 0, produces: 0 }
    page.on("request", (request) => {
      if (transportRequest("send")(request)) sent.sendTransports++
      if (isProduce(request)) sent.produces++
    })

    // Hosts start muted: once the room's media is up, nothing is published.
    expect(await micSilenced(page)).toBe("not publishing")

    // Left at the permission prompt: the capture, held until then, is stopped as it arrives.
    const prompt = await holdCapture(page)
    await page.getByRole("button", { name: "Unmute" }).click()
    await prompt.held()
    await leaveRoom()
    await prompt.release()
    await nothingOnAir(1)
    expect(sent).toEqual({ sendTransports: 0, produces: 0 })

    // Left while the server makes the send transport. Back in the room mo is still on stage and
    // unmuted, so the microphone is published at once; its transport request waits for the exit.
    const sendTransport = transportRequest("send")
    const transportHeld = await holdRequests(page, sendTransport)
    await enterRoom()
    await transportHeld.held()
    await leaveRoom()
    const made = answered(sendTransport)
    const closed = closedOnServer()
    await transportHeld.release()
    const { transportId } = (await (await made).json()) as { transportId: string }
    const deleted = await closed
    expect(deleted.url()).toContain(`/media/transports/${transportId}`)
    expect(deleted.status()).toBe(204)
    await nothingOnAir(2)
    expect(sent).toEqual({ sendTransports: 1, produces: 0 })

    // Left while the server produces. Closing the transport fails the produce in the page at once
    // and the page asks the server to close the transport; that request waits here until the
    // produce has been let through and answered, so the server did produce and must undo it.
    const produceHeld = await holdRequests(page, isProduce)
    const sendMade = answered(sendTransport)
    await enterRoom()
    const { transportId: sendId } = (await (await sendMade).json()) as { transportId: string }
    await produceHeld.held()
    const closeHeld = await holdRequests(page, isTransportClose)
    const produced = answered(isProduce)
    const sendClosed = answered(isTransportClose)
    await leaveRoom()
    expect((await closeHeld.held()).url()).toContain(`/media/transports/${sendId}`)
    await produceHeld.release()
    expect((await produced).status()).toBe(201)
    await closeHeld.release()
    expect((await sendClosed).status()).toBe(204)
    await nothingOnAir(3)

    // Left while the receive transport is made (the room's media starting): it is closed on the
    // server too, and the microphone, queued behind it, never starts.
    const recvTransport = transportRequest("recv")
    const recvHeld = await holdRequests(page, recvTransport)
    await enterRoom()
    await recvHeld.held()
    await leaveRoom()
    const recvMade = answered(recvTransport)
    const recvClosed = closedOnServer()
    await recvHeld.release()
    const { transportId: recvId } = (await (await recvMade).json()) as { transportId: string }
    expect((await recvClosed).url()).toContain(`/media/transports/${recvId}`)
    await nothingOnAir(3)
  })
})
