/**
 * Live captions in the browser: the host's microphone is a speech WAV (Chromium's fake capture
 * from a file); the server's own transcriber hears it through the SFU; a listener's page shows
 * what was said.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sharedWords, speechWav } from "../../packages/media/src/testing/speech.js"
import {
  eventually,
  launchChromium,
  type Person,
  type RunningSpaces,
  signIn,
  startSpaces
} from "./harness.js"

const SENTENCE = "this is a test of the captions"

describe("captions in the web client (Chromium, fake microphone playing speech)", () => {
  let spaces: RunningSpaces
  let browser: Browser
  let dir: string
  const people: Array<Person> = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "spaces-captions-browser-"))
    const wav = join(dir, "speech.wav")
    // The sentence, then silence so each loop of the file is a phrase of its own.
    writeFileSync(wav, speechWav(`${SENTENCE}.`, undefined, { rate: 48_000, trailingSilenceMs: 2000 }))
    spaces = await startSpaces()
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${wav}`])
  })

  afterAll(async () => {
    for (const person of people) await person.context.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("shows a listener the captions of what the host says", async () => {
    const hana = await signIn(browser, spaces.url, "hana")
    people.push(hana)
    const host = hana.page
    await host.getByLabel("Title").fill("Captioned show")
    await host.getByLabel("Show captions").check()
    await host.getByRole("button", { name: "Create Space" }).click()
    await host.getByRole("heading", { level: 1, name: "Captioned show" }).waitFor()
    await host.getByRole("button", { name: "Unmute" }).click()
    await host.getByRole("button", { name: "Mute", exact: true }).waitFor()

    const lee = await signIn(browser, spaces.url, "lee")
    people.push(lee)
    const listener = lee.page
    await listener.goto(`/${new URL(host.url()).hash}`)
    await listener.getByRole("heading", { level: 1, name: "Captioned show" }).waitFor()
    await listener.getByRole("button", { name: "Join this Space" }).click()

    // Final captions only: a partial (class "partial") is a hypothesis that the final replaces.
    const captions = listener.getByRole("log").locator("li:not(.partial)")
    const heard = await eventually(
      "a final caption sharing half the spoken words",
      async () => {
        for (const text of await captions.allTextContents()) {
          const said = text.replace(/^hana: /, "")
          if (text.startsWith("hana: ") && sharedWords(SENTENCE, said) >= 0.5) return said
        }
        return undefined
      },
      120_000,
      500
    )
    expect(sharedWords(SENTENCE, heard)).toBeGreaterThanOrEqual(0.5)

    // The replay lists the transcript (times on the Space's timeline).
    await listener.goto(`/${new URL(host.url()).hash.replace("#/space/", "#/replay/")}`)
    const transcript = listener.getByRole("list", { name: "Transcript" })
    await transcript.getByText(heard).first().waitFor()
    expect(await transcript.locator("li").first().textContent()).toMatch(/^\d+:\d{2} hana: /)
  }, 180_000)
})
