import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ServiceId } from "@spaces/domain"
import { CAPTIONS_SCOPE, MEDIA_TAP_SCOPE } from "@spaces/http"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { TestSpeaker } from "../../packages/media/src/testing/peers.js"
import {
  concatPcm,
  opusFrames,
  sendInRealTime,
  sharedWords,
  silencePcm,
  speechPcm
} from "../../packages/media/src/testing/speech.js"
import { openCaptionedRoom } from "./captionedRoom.js"
import { type Client, openSse, request, serviceToken, type TestServer, tokens } from "./harness.js"

const SENTENCE = "hello everyone and welcome to the show"
const SSRC = 6160
const ROOT = fileURLToPath(new URL("../../", import.meta.url))

interface Logged {
  readonly event: { readonly _tag: string } & Record<string, unknown>
}

/** The transcriber as a child process: its structured log lines, and a wait for one of them. */
const startTranscriber = (env: Record<string, string>) => {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=@spaces/source", "--import", "tsx", "packages/http/src/bin/transcriber.ts"],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }
  )
  const lines: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  let stderr = ""
  let buffer = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    const parts = buffer.split("\n")
    buffer = parts.pop() ?? ""
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>)
      } catch {
        lines.push({ text: part })
      }
    }
    for (const wake of waiters.splice(0)) wake()
  })
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  /** Resolves when a log line matches; rejects when the process exits or after `timeoutMs`. */
  const waitFor = (match: (line: Record<string, unknown>) => boolean, timeoutMs: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no such transcriber log line; stderr: ${stderr}`)),
        timeoutMs
      )
      const check = () => {
        const found = lines.find(match)
        if (found !== undefined) {
          clearTimeout(timer)
          resolve(found)
        } else waiters.push(check)
      }
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`the transcriber exited (${code}); stderr: ${stderr}`))
      })
      check()
    })
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM")
    return exited
  }
  return { child, lines, waitFor, stop, stderr: () => stderr }
}

/** Captions by `npm run transcriber` in its own process, through the API with a service token. */
describe.skipIf(!existsSync(mediasoup.workerBin))("the transcriber as its own process", () => {
  let t: TestServer
  let host: Client
  let listener: Client
  let speaker: TestSpeaker
  let transcriber: ReturnType<typeof startTranscriber>
  const spaceId = "ext-cap-1"

  beforeAll(async () => {
    ;({ t, host, listener, speaker } = await openCaptionedRoom({
      env: {
        SPACES_MEDIA_MIN_PORT: "46000",
        SPACES_MEDIA_MAX_PORT: "46999",
        SPACES_CAPTIONS_ENGINE: "external"
      },
      spaceId,
      title: "Captioned elsewhere",
      host: "ext-host",
      listener: "ext-listener",
      ssrc: SSRC
    }))
  }, 60_000)
  afterAll(async () => {
    await transcriber?.stop()
    await speaker?.endpoint.close()
    await t?.close()
  })

  it("refuses the media tap route to users, and to services without the media:tap scope", async () => {
    const producers = (await host.call("GET", `/v1/spaces/${spaceId}/media/producers`)).body as Array<{
      producerId: string
    }>
    const body = { producerId: producers[0]!.producerId, ip: "127.0.0.1", port: 9 }
    const byUser = await host.call("POST", `/v1/spaces/${spaceId}/media/taps`, body)
    expect(byUser.status).toBe(403)
    expect(byUser.headers.get("content-type")).toContain("application/problem+json")
    expect((byUser.body as { type: string }).type).toContain("service-identity-required")
    const unscoped = await request(t.url, "POST", `/v1/spaces/${spaceId}/media/taps`, {
      token: await serviceToken("transcriber"),
      body
    })
    expect(unscoped.status).toBe(403)
    expect((unscoped.body as { type: string }).type).toContain("missing-scope")
    const tapper = await tokens.issue({
      kind: "service",
      serviceId: ServiceId.make("tapper"),
      scopes: [MEDIA_TAP_SCOPE]
    })
    const unknownProducer = await request(t.url, "POST", `/v1/spaces/${spaceId}/media/taps`, {
      token: tapper,
      body: { ...body, producerId: "no-such-producer" }
    })
    expect(unknownProducer.status).toBe(404)
    expect((unknownProducer.body as { type: string }).type).toContain("media-unknown-producer")
    const unknownTap = await request(t.url, "DELETE", `/v1/spaces/${spaceId}/media/taps/no-such-tap`, {
      token: tapper
    })
    expect(unknownTap.status).toBe(404)
    // A service's new tap of a producer replaces its old one (a restarted transcriber's leftovers).
    const tapped = await request(t.url, "POST", `/v1/spaces/${spaceId}/media/taps`, { token: tapper, body })
    expect(tapped.status).toBe(201)
    expect(tapped.body).toMatchObject({ producerId: body.producerId, userId: "ext-host" })
    const retapped = await request(t.url, "POST", `/v1/spaces/${spaceId}/media/taps`, { token: tapper, body })
    expect(retapped.status).toBe(201)
    const oldTap = (tapped.body as { tapId: string }).tapId
    const newTap = (retapped.body as { tapId: string }).tapId
    expect(newTap).not.toBe(oldTap)
    const gone = await request(t.url, "DELETE", `/v1/spaces/${spaceId}/media/taps/${oldTap}`, {
      token: tapper
    })
    expect(gone.status).toBe(404)
    const deleted = await request(t.url, "DELETE", `/v1/spaces/${spaceId}/media/taps/${newTap}`, {
      token: tapper
    })
    expect(deleted.status).toBe(204)
    const malformed = await request(t.url, "POST", `/v1/spaces/${spaceId}/media/taps`, {
      token: tapper,
      body: { producerId: "", ip: "not-an-address", port: 0 }
    })
    expect(malformed.status).toBe(400)
    expect((malformed.body as { type: string }).type).toContain("malformed-request")
    const listed = await host.call("GET", "/v1/captions/spaces")
    expect(listed.status).toBe(403)
    const partial = await host.call("POST", `/v1/spaces/${spaceId}/captions/partials`, {
      speaker: "ext-host",
      text: "forged",
      startMs: 0
    })
    expect(partial.status).toBe(403)
    const openapi = (await request(t.url, "GET", "/openapi.json")).body as { paths: Record<string, unknown> }
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        "/v1/captions/spaces",
        "/v1/spaces/{spaceId}/captions/partials",
        "/v1/spaces/{spaceId}/media/taps",
        "/v1/spaces/{spaceId}/media/taps/{tapId}"
      ])
    )
    const badPartial = await request(t.url, "POST", `/v1/spaces/${spaceId}/captions/partials`, {
      token: await serviceToken("transcriber"),
      body: { speaker: "ext-host", text: "x", startMs: -1 }
    })
    expect(badPartial.status).toBe(400)
  })

  it("transcribes the speaker in a separate process: a final caption appended by the service, partials first", async () => {
    // The server runs no transcriber of its own with the external engine.
    const metrics = await (await fetch(`${t.url}/metrics`)).text()
    expect(metrics).not.toContain("spaces_captions_speakers")

    const token = await tokens.issue({
      kind: "service",
      serviceId: ServiceId.make("transcriber"),
      scopes: [CAPTIONS_SCOPE, MEDIA_TAP_SCOPE]
    })
    transcriber = startTranscriber({
      SPACES_URL: t.url,
      SPACES_SERVICE_TOKEN: token,
      SPACES_CAPTIONS_DECODERS: "1",
      SPACES_LOG_LEVEL: "info"
    })
    await transcriber.waitFor((l) => l.event === "transcriber.tapped" && l.spaceId === spaceId, 60_000)

    const view = await listener.call("GET", `/v1/spaces/${spaceId}`)
    const position = (view.body as { position: number }).position
    const live = await openSse(`${t.url}/v1/spaces/${spaceId}/live?after=${position}`, {
      authorization: `Bearer ${listener.token}`
    })
    try {
      const frames = opusFrames(concatPcm(speechPcm(SENTENCE), silencePcm(1500)))
      let spokenAt = 0
      await sendInRealTime(frames, speaker.sendPacket, {
        ssrc: SSRC,
        onFrame: (i, at) => {
          if (i === 0) spokenAt = at
        }
      })
      const final = await live.next(
        (e) => e.event === "space" && (e.data as { type: string }).type === "CaptionAppended",
        60_000
      )
      const log = (await host.call("GET", `/v1/spaces/${spaceId}/events`)).body as Array<Logged>
      const appended = log.filter((e) => e.event._tag === "CaptionAppended")
      expect(appended).toHaveLength(1)
      const segment = appended[0]!.event.segment as {
        speaker: string
        text: string
        startMs: number
        endMs: number
      }
      expect(appended[0]!.event.service).toBe("transcriber")
      expect(segment.speaker).toBe("ext-host")
      expect(sharedWords(SENTENCE, segment.text), segment.text).toBeGreaterThanOrEqual(0.5)
      // On the Space's timeline (ms since it went live), around when the words were sent.
      const started = log.find((e) => e.event._tag === "SpaceStarted")!.event.at as number
      expect(segment.startMs).toBeGreaterThan(spokenAt - started - 1000)
      expect(segment.startMs).toBeLessThan(spokenAt - started + 1500)
      expect(segment.endMs).toBeGreaterThan(segment.startMs)

      const partialIndex = live.events.findIndex((e) => e.event === "caption")
      expect(partialIndex).toBeGreaterThanOrEqual(0)
      expect(partialIndex).toBeLessThan(live.events.indexOf(final))
      expect(live.events[partialIndex]!.data).toMatchObject({ spaceId, speaker: "ext-host" })
    } finally {
      live.close()
    }
  }, 180_000)

  it("stops tapping when captions are turned off", async () => {
    expect((await host.call("PUT", `/v1/spaces/${spaceId}/captions`, { captions: false })).status).toBe(200)
    await transcriber.waitFor((l) => l.event === "transcriber.untapped" && l.spaceId === spaceId, 30_000)
    const partial = await request(t.url, "POST", `/v1/spaces/${spaceId}/captions/partials`, {
      token: await serviceToken("transcriber"),
      body: { speaker: "ext-host", text: "late", startMs: 0 }
    })
    expect(partial.status).toBe(409)
  }, 60_000)

  it("taps again when captions come back on, and closes its taps when stopped", async () => {
    const tappedBefore = transcriber.lines.filter((l) => l.event === "transcriber.tapped").length
    expect((await host.call("PUT", `/v1/spaces/${spaceId}/captions`, { captions: true })).status).toBe(200)
    await transcriber.waitFor(
      () => transcriber.lines.filter((l) => l.event === "transcriber.tapped").length > tappedBefore,
      30_000
    )
    const untappedBefore = transcriber.lines.filter((l) => l.event === "transcriber.untapped").length
    expect(await transcriber.stop()).toBe(0)
    expect(transcriber.lines.filter((l) => l.event === "transcriber.untapped").length).toBe(
      untappedBefore + 1
    )
    // Its DELETE reached the server before it exited: the tap is gone there.
    const lastTap = transcriber.lines.filter((l) => l.event === "transcriber.tapped").at(-1)!.tapId as string
    const tapper = await tokens.issue({
      kind: "service",
      serviceId: ServiceId.make("transcriber"),
      scopes: [MEDIA_TAP_SCOPE]
    })
    const closed = await request(t.url, "DELETE", `/v1/spaces/${spaceId}/media/taps/${lastTap}`, {
      token: tapper
    })
    expect(closed.status).toBe(404)
  }, 60_000)
})
