import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { speechPcm } from "../testing/speech.js"
import { readWav } from "./wav.js"
import { makeWhisper } from "./whisper.js"

interface Received {
  readonly path: string
  readonly authorization: string | undefined
  readonly fields: Record<string, string>
  readonly file: { readonly name: string; readonly type: string; readonly bytes: Buffer } | undefined
}

const bodyOf = async (req: IncomingMessage) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A Whisper-compatible server in the test: parses the multipart request and answers like whisper.cpp. */
const whisperServer = async (answer: (received: Received) => { status: number; body: unknown }) => {
  const received: Array<Received> = []
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req)
    // The platform's own multipart parser (undici), fed the raw request.
    const form = await new Response(body, {
      headers: { "content-type": req.headers["content-type"] ?? "" }
    }).formData()
    const fields: Record<string, string> = {}
    let file: Received["file"]
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") fields[name] = value
      else file = { name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) }
    }
    const entry = { path: req.url ?? "", authorization: req.headers.authorization, fields, file }
    received.push(entry)
    const { status, body: out } = answer(entry)
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(out))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return { server, received, url: `http://127.0.0.1:${port}` }
}

let open: Server | undefined
afterEach(() => {
  open?.close()
  open = undefined
})

const options = (url: string) => ({
  url,
  model: "base.en",
  apiKey: "sk-test",
  language: "en",
  maxInFlight: 1,
  timeoutMs: 10_000
})

describe("the Whisper-compatible recogniser", () => {
  it("posts the phrase as a 16 kHz mono 16-bit WAV to /v1/audio/transcriptions and returns the text", async () => {
    const whisper = await whisperServer(() => ({ status: 200, body: { text: " Hello from the server. " } }))
    open = whisper.server
    const recogniser = makeWhisper(options(`${whisper.url}/base/`))
    const pcm = speechPcm("hello world")
    const text = await Effect.runPromise(
      Effect.gen(function* () {
        const utterance = yield* recogniser.open(() => undefined)
        // Pushed in 20 ms pieces, as the transcriber does.
        for (let i = 0; i < pcm.length; i += 320) utterance.push(pcm.subarray(i, i + 320))
        return yield* utterance.finish
      })
    )
    expect(text).toBe("Hello from the server.")
    expect(whisper.received).toHaveLength(1)
    const [request] = whisper.received
    expect(request!.path).toBe("/base/v1/audio/transcriptions")
    expect(request!.authorization).toBe("Bearer sk-test")
    expect(request!.fields).toMatchObject({ model: "base.en", language: "en", response_format: "json" })
    expect(request!.file).toMatchObject({ name: "phrase.wav", type: "audio/wav" })
    const wav = readWav(request!.file!.bytes)
    expect(wav).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 })
    expect(Array.from(wav!.samples)).toEqual(Array.from(pcm))
  })

  it("fails the phrase on an HTTP error, and is busy beyond its phrases in flight", async () => {
    const whisper = await whisperServer(() => ({ status: 500, body: { error: "model not loaded" } }))
    open = whisper.server
    const recogniser = makeWhisper(options(whisper.url))
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        const first = yield* recogniser.open(() => undefined)
        const second = yield* Effect.exit(recogniser.open(() => undefined))
        expect(Exit.isFailure(second) && JSON.stringify(second.cause)).toContain("RecogniserBusy")
        first.push(new Int16Array(320))
        return yield* first.finish
      })
    )
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("HTTP 500")
    // The failed phrase freed its place.
    const again = await Effect.runPromiseExit(recogniser.open(() => undefined))
    expect(Exit.isSuccess(again)).toBe(true)
  })
})
