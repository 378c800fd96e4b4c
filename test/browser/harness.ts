/**
 * What the browser tests stand on: the real server (the composition root's `start`, a temporary
 * SQLite file, media on) and Debian's Chromium driven by playwright-core with a fake microphone.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig, start } from "@spaces/http"
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
  type Request,
  type Route
} from "playwright-core"

export interface RunningSpaces {
  readonly url: string
  readonly close: () => Promise<void>
}

/** `env` adds or overrides variables (an empty value unsets one). */
export const startSpaces = async (env: Readonly<Record<string, string>> = {}): Promise<RunningSpaces> => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-browser-"))
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SPACES_DB_PATH: join(dir, "spaces.sqlite"),
    SPACES_MEDIA: "on",
    SPACES_MEDIA_WORKERS: "1",
    SPACES_WEB_CLIENT: "true",
    SPACES_LOG_LEVEL: "warn",
    // A development run (like `npm start`): dev sign-in for people, and for the captioner service.
    NODE_ENV: "development",
    SPACES_DEV_AUTH_SERVICES: "true",
    ...env
  })
  const server = await start(config)
  return {
    url: server.url,
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Chromium flags: fake capture devices and no permission prompt, nothing phoning home. */
const chromiumArgs = [
  "--no-sandbox",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  // The room's <audio> elements play without a click in between (a real user has clicked Join).
  "--autoplay-policy=no-user-gesture-required"
]

/** One Chromium; `launch` gives it a fresh temporary profile (user data dir), removed on close. */
export const launchChromium = (extraArgs: ReadonlyArray<string> = []): Promise<Browser> =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [...chromiumArgs, ...extraArgs]
  })

export const desktop = { width: 1000, height: 760 }
export const phone = { width: 390, height: 844 }

export interface Person {
  readonly name: string
  readonly context: BrowserContext
  readonly page: Page
}

/** The parts of the page's media capture used here (the tests compile without the DOM lib). */
interface CapturedTrack {
  readonly readyState: string
}
interface MediaDevicesPart {
  getUserMedia(constraints: unknown): Promise<{ getTracks(): Array<CapturedTrack> }>
}
interface CaptureWatch {
  spacesCaptures?: {
    readonly tracks: Array<CapturedTrack>
    /** While set, captures wait for it (a permission prompt the user has not answered yet). */
    hold: Promise<void> | null
    release: () => void
    waiting: number
  }
}

/**
 * An init script: every track the page captures is kept, so a test sees a capture the page lost
 * track of (its media probe gone with the room) still live; and a capture can be held in flight.
 */
function watchCaptures(): void {
  const page = globalThis as unknown as CaptureWatch & { navigator: { mediaDevices: MediaDevicesPart } }
  const devices = page.navigator.mediaDevices
  const original = devices.getUserMedia.bind(devices)
  const watch: NonNullable<CaptureWatch["spacesCaptures"]> = {
    tracks: [],
    hold: null,
    release: () => undefined,
    waiting: 0
  }
  page.spacesCaptures = watch
  devices.getUserMedia = async (constraints) => {
    if (watch.hold !== null) {
      watch.waiting++
      await watch.hold
      watch.waiting--
    }
    const stream = await original(constraints)
    watch.tracks.push(...stream.getTracks())
    return stream
  }
}

/** The page's captures so far: how many were made, how many are still live, how many are held. */
export const captures = (page: Page) =>
  page.evaluate(() => {
    const watch = (globalThis as unknown as CaptureWatch).spacesCaptures
    if (watch === undefined) throw new Error("no capture watch in this page")
    return {
      made: watch.tracks.length,
      live: watch.tracks.filter((track) => track.readyState === "live").length,
      waiting: watch.waiting
    }
  })

/** Holds the page's next captures until `release` is called; resolves once one is held. */
export const holdCapture = async (page: Page) => {
  await page.evaluate(() => {
    const watch = (globalThis as unknown as CaptureWatch).spacesCaptures
    if (watch === undefined) throw new Error("no capture watch in this page")
    watch.hold = new Promise((resolve) => {
      watch.release = () => {
        watch.hold = null
        resolve()
      }
    })
  })
  return {
    held: () =>
      eventually("a capture to be held", async () => ((await captures(page)).waiting > 0 ? true : undefined)),
    release: () =>
      page.evaluate(() => {
        ;(globalThis as unknown as CaptureWatch).spacesCaptures?.release()
      })
  }
}

/** Holds the page's requests that `match` before they reach the server, until released. */
export const holdRequests = async (page: Page, match: (request: Request) => boolean) => {
  let arrive: (request: Request) => void = () => undefined
  const arrived = new Promise<Request>((resolve) => {
    arrive = resolve
  })
  let free: () => void = () => undefined
  const freed = new Promise<void>((resolve) => {
    free = resolve
  })
  const passed: Array<Promise<void>> = []
  const handler = (route: Route) => {
    if (!match(route.request())) return route.fallback()
    arrive(route.request())
    const pass = freed.then(() => route.continue())
    passed.push(pass)
    return pass
  }
  await page.route("**/v1/**", handler)
  return {
    /** The first held request, once the page has sent it (failing after `timeoutMs`). */
    held: (timeoutMs = 20_000) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out waiting for a held request")), timeoutMs)
      })
      return Promise.race([arrived, late]).finally(() => clearTimeout(timer))
    },
    release: async () => {
      free()
      // Unrouting first would hand the held requests on by itself, before our `continue`.
      await Promise.all(passed)
      await page.unroute("**/v1/**", handler)
    }
  }
}

/**
 * The producers the server has in a Space's media room, read as another participant would (the
 * list is for participants only): the auditor joins as a listener first (again is a no-op refusal).
 */
export const producersIn = async (
  url: string,
  spaceId: string
): Promise<ReadonlyArray<{ readonly producerId: string; readonly userId: string }>> => {
  const json = { "content-type": "application/json" }
  const issued = await fetch(`${url}/v1/dev/token`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ user: "media-auditor" })
  })
  const { token } = (await issued.json()) as { token: string }
  await fetch(`${url}/v1/spaces/${encodeURIComponent(spaceId)}/join`, {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${token}` },
    body: "{}"
  })
  const listed = await fetch(`${url}/v1/spaces/${encodeURIComponent(spaceId)}/media/producers`, {
    headers: { authorization: `Bearer ${token}` }
  })
  if (!listed.ok) throw new Error(`producers refused: ${listed.status} ${await listed.text()}`)
  return (await listed.json()) as ReadonlyArray<{ producerId: string; userId: string }>
}

/** A person in their own browser context (own storage, own tokens), signed in through the page. */
export const signIn = async (
  browser: Browser,
  url: string,
  name: string,
  viewport: { width: number; height: number } = desktop,
  beforeSubmit?: (page: Page) => Promise<unknown>
): Promise<Person> => {
  const context = await browser.newContext({ viewport, permissions: ["microphone"], baseURL: url })
  await context.addInitScript(watchCaptures)
  const page = await context.newPage()
  page.on("dialog", (dialog) => void dialog.accept())
  // The page's own errors, named by person, make a failure readable.
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`))
  page.on("response", (response) => {
    if (response.status() >= 400)
      void response.text().then(
        (body) =>
          console.error(
            `[${name}] ${response.request().method()} ${response.url()} → ${response.status()} ${body.slice(0, 300)}`
          ),
        () => undefined
      )
  })
  await page.goto("/")
  await page.getByLabel("User name").fill(name)
  await beforeSubmit?.(page)
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.getByRole("navigation", { name: "Account" }).getByText(`Signed in as ${name}`).waitFor()
  return { name, context, page }
}

/** The inbound audio a page receives, per speaker, from mediasoup-client's consumers' getStats(). */
export interface InboundAudio {
  readonly userId: string
  readonly packetsReceived: number
  readonly audioLevel: number
  readonly totalAudioEnergy: number
}

/** A page's own audio as its mediasoup-client producer's getStats() counts it. */
export interface OutboundAudio {
  readonly packetsSent: number
  readonly bytesSent: number
  /** The capture track is live (the browser's mic indicator is on). */
  readonly capturing: boolean
  readonly paused: boolean
}

interface Probe {
  readonly spacesMedia?: {
    readonly inbound: () => Promise<ReadonlyArray<InboundAudio>>
    readonly outbound: () => Promise<OutboundAudio | null>
  }
}

export const inboundFrom = async (page: Page, speaker: string): Promise<InboundAudio | undefined> => {
  const all = await page.evaluate(() => (globalThis as Probe).spacesMedia?.inbound() ?? [])
  return all.find((a) => a.userId === speaker)
}

/** Null when the page publishes nothing (no producer). */
export const outboundOf = (page: Page): Promise<OutboundAudio | null> =>
  page.evaluate(() => (globalThis as Probe).spacesMedia?.outbound() ?? null)

/** Like `outboundOf`, but "no media" before the room's media has started (no probe yet) or after it closed. */
const probedOutbound = (page: Page): Promise<OutboundAudio | null | "no media"> =>
  page.evaluate(async () => {
    const probe = (globalThis as Probe).spacesMedia
    return probe === undefined ? "no media" : await probe.outbound()
  })

/** Polls `check` until it returns a value (not undefined), at most `timeoutMs`; fails naming `what`. */
export const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined>,
  timeoutMs = 20_000,
  everyMs = 250
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `speaker`'s audio reaches `page`: packets keep arriving and carry sound. */
export const audioFlows = (page: Page, speaker: string) =>
  eventually(`audio from ${speaker}`, async () => {
    const before = await inboundFrom(page, speaker)
    if (before === undefined) return undefined
    await pause(500)
    const after = await inboundFrom(page, speaker)
    if (after === undefined) return undefined
    const flowing = after.packetsReceived > before.packetsReceived
    const audible = after.totalAudioEnergy > 0 || after.audioLevel > 0
    return flowing && audible ? after : undefined
  })

/** `speaker`'s audio no longer reaches `page`: no new packet over a whole second (or the consumer is gone). */
export const audioStopped = (page: Page, speaker: string) =>
  eventually(
    `audio from ${speaker} to stop`,
    async () => {
      const before = await inboundFrom(page, speaker)
      if (before === undefined) return "no consumer"
      await pause(1000)
      const after = await inboundFrom(page, speaker)
      if (after === undefined) return "no consumer"
      return after.packetsReceived === before.packetsReceived
        ? `stopped at ${after.packetsReceived}`
        : undefined
    },
    20_000,
    0
  )

/** `page` sends its microphone: captured, and the packets sent keep growing. */
export const micSending = (page: Page) =>
  eventually("our microphone to be sent", async () => {
    const before = await outboundOf(page)
    if (before === null || !before.capturing) return undefined
    await pause(500)
    const after = await outboundOf(page)
    return after !== null && after.packetsSent > before.packetsSent ? after : undefined
  })

/**
 * `page`'s microphone is silenced in the browser, not only on the server: the capture track is
 * stopped and no RTP packet leaves over a whole second (or nothing is published at all). Judged
 * once the room's media has started: before, "nothing published" would hold whatever happens next.
 */
export const micSilenced = (page: Page) =>
  eventually(
    "our microphone to be silenced",
    async () => {
      const before = await probedOutbound(page)
      // No probe says nothing about the microphone: its media has not started (yet).
      if (before === "no media") return undefined
      if (before === null) return "not publishing"
      if (before.capturing || !before.paused) return undefined
      await pause(1000)
      const after = await probedOutbound(page)
      if (after === "no media") return undefined
      if (after === null) return "not publishing"
      return after.packetsSent === before.packetsSent && !after.capturing
        ? `released, stopped at ${after.packetsSent}`
        : undefined
    },
    20_000,
    0
  )

/** What a recorded track holds, read in the page: the <audio> element's metadata and decoded samples. */
export interface RecordedAudio {
  readonly readyState: number
  readonly duration: number
  readonly decodedSeconds: number
  /** Largest absolute sample of the decoded track (0: silence). */
  readonly peak: number
}

/** The parts of the page's <audio> element and WebAudio used here (the tests compile without the DOM lib). */
interface AudioElementPart {
  readonly tagName: string
  readonly readyState: number
  readonly duration: number
  readonly currentSrc: string
  readonly error: unknown
  load(): void
}
interface DecodedAudio {
  readonly duration: number
  readonly numberOfChannels: number
  getChannelData(channel: number): Float32Array
}
interface AudioDecoding {
  readonly OfflineAudioContext: new (
    channels: number,
    length: number,
    sampleRate: number
  ) => { decodeAudioData(bytes: ArrayBuffer): Promise<DecodedAudio> }
}

/**
 * The `<audio>` player labelled `label` loaded its track in Chromium (metadata read, a length) and
 * the same file decodes with WebAudio to something that is not silence.
 */
export const recordedAudio = (page: Page, label: RegExp) =>
  eventually(`the recording (${label}) to load and decode`, async () => {
    const audio = page.getByLabel(label)
    const result = await audio.evaluate(async (node): Promise<RecordedAudio | null> => {
      const element = node as unknown as AudioElementPart
      if (element.tagName !== "AUDIO") throw new Error(`not an <audio> element: ${element.tagName}`)
      // A player that failed (say, the file was still being closed) tries again from the start.
      if (element.error !== null) element.load()
      // HAVE_METADATA: the length is known.
      if (element.readyState < 1) return null
      const bytes = await (await fetch(element.currentSrc)).arrayBuffer()
      const { OfflineAudioContext } = globalThis as unknown as AudioDecoding
      const decoded = await new OfflineAudioContext(1, 1, 48_000).decodeAudioData(bytes)
      let peak = 0
      for (let channel = 0; channel < decoded.numberOfChannels; channel++)
        for (const sample of decoded.getChannelData(channel)) peak = Math.max(peak, Math.abs(sample))
      return {
        readyState: element.readyState,
        duration: element.duration,
        decodedSeconds: decoded.duration,
        peak
      }
    })
    return result ?? undefined
  })

/** What the transcription service does: a service token (dev sign-in) and one caption segment. */
export const appendCaption = async (
  url: string,
  spaceId: string,
  segment: { speaker: string; text: string; startMs: number; endMs: number }
): Promise<void> => {
  const json = { "content-type": "application/json" }
  const issued = await fetch(`${url}/v1/dev/token`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ service: "captioner" })
  })
  const { token } = (await issued.json()) as { token: string }
  const appended = await fetch(`${url}/v1/spaces/${encodeURIComponent(spaceId)}/captions/segments`, {
    method: "POST",
    headers: { ...json, authorization: `Bearer ${token}` },
    body: JSON.stringify({ segment })
  })
  if (!appended.ok) throw new Error(`caption refused: ${appended.status} ${await appended.text()}`)
}
