/**
 * Live captions: latency, accuracy and capacity of the embedded engine (pocketsphinx).
 *
 *   npm run bench -- captions
 *
 * 1. Latency, through the real path: espeak-ng clips sent in real time as Opus RTP by a speaker
 *    into a mediasoup room; the transcriber taps the producer, decodes, segments and recognises
 *    (one decoder). From the end of each phrase (its last voiced packet sent) to its final caption,
 *    and from its start (first voiced packet) to its first partial: p50 and p95.
 * 2. Word error rate of those finals against the sentences, beside the baseline: the same clips
 *    (16 kHz WAV, never through Opus) through Debian's `pocketsphinx_continuous` CLI, in this run.
 * 3. Speakers one core keeps up with: K decoders pinned to one core (taskset), each fed the
 *    clips in real time; the largest K whose finals all come within 1.5 s of their phrase's end.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, Layer } from "effect"
import {
  defaultPocketsphinxOptions,
  frame,
  makePocketsphinx,
  pocketsphinxHelper
} from "../src/captions/pocketsphinx.js"
import { Recogniser } from "../src/captions/Recogniser.js"
import { AudioSource, CaptionSink, makeTranscriber } from "../src/captions/transcriber.js"
import { MediaInstruction, MediaPlane, MediaPlaneLive } from "../src/index.js"
import { testAuthority } from "../src/testing/authority.js"
import { plainSpeaker } from "../src/testing/peers.js"
import {
  concatPcm,
  opusFrames,
  sendInRealTime,
  silencePcm,
  speechPcm,
  speechWav,
  wordsOf
} from "../src/testing/speech.js"
import { waitUntil } from "../src/testing/udp.js"
import { cpuSeconds } from "../../../scripts/bench/procStats.js"

const CLIPS = [
  "hello everyone and welcome to the show",
  "we will meet at the station",
  "let us start with the first question",
  "this is a test of the captions",
  "thank you very much for coming today",
  "i think we should talk about the music",
  "the weather today is sunny and warm",
  "can everyone hear me now",
  "please turn on the lights in the kitchen",
  "the next speaker has a question"
]
const PAUSE_MS = 1500

/** Word-level Levenshtein distance (substitutions, insertions, deletions). */
const editDistance = (reference: ReadonlyArray<string>, hypothesis: ReadonlyArray<string>) => {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j)
  for (let i = 1; i <= reference.length; i++) {
    const row = [i]
    for (let j = 1; j <= hypothesis.length; j++)
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1)
      )
    previous = row
  }
  return previous[hypothesis.length]!
}
const wer = (pairs: ReadonlyArray<{ reference: string; hypothesis: string }>) => {
  let edits = 0
  let words = 0
  for (const { reference, hypothesis } of pairs) {
    edits += editDistance(wordsOf(reference), wordsOf(hypothesis))
    words += wordsOf(reference).length
  }
  return edits / words
}
const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const ms = (x: number) => `${Math.round(x)} ms`

/** Part 1 and 2: the clips through the real media path and the transcriber. */
const throughTheRoom = Effect.gen(function* () {
  const plane = yield* MediaPlane
  const space = "bench-captions" as SpaceId
  const host = "bench-host" as UserId
  yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
  const finals: Array<{ text: string; at: number }> = []
  const partials: Array<{ at: number }> = []
  const recogniser = yield* makePocketsphinx({ ...defaultPocketsphinxOptions(), decoders: 1 })
  const transcriber = yield* makeTranscriber().pipe(
    Effect.provideService(AudioSource, plane),
    Effect.provideService(Recogniser, recogniser),
    Effect.provideService(CaptionSink, {
      partial: () => Effect.sync(() => partials.push({ at: Date.now() })),
      final: ({ text }) => Effect.sync(() => finals.push({ text, at: Date.now() }))
    })
  )
  yield* transcriber.setCaptions(space, true, Date.now())
  yield* recogniser.warm
  const speaker = yield* plainSpeaker(plane, space, host, 9001)
  yield* Effect.promise(() => waitUntil(() => Effect.runSync(transcriber.stats).tappedSpeakers === 1, 30_000))
  // Let the decoder load its model before the first clip (a server keeps it loaded).
  yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 3000)))

  const results: Array<{
    reference: string
    hypothesis: string
    finalMs: number
    partialMs: number | undefined
  }> = []
  let index = 0
  for (const clip of CLIPS) {
    const speech = speechPcm(clip)
    const frames = opusFrames(concatPcm(speech, silencePcm(PAUSE_MS)))
    const voicedFrames = Math.ceil(speech.length / 320)
    let startAt = 0
    let endAt = 0
    const before = { finals: finals.length, partials: partials.length }
    index = yield* Effect.promise(() =>
      sendInRealTime(frames, speaker.sendPacket, {
        ssrc: 9001,
        firstIndex: index,
        onFrame: (i, at) => {
          if (i === 0) startAt = at
          if (i === voicedFrames - 1) endAt = at + 20
        }
      })
    )
    yield* Effect.promise(() => waitUntil(() => finals.length > before.finals, 30_000))
    const final = finals[before.finals]
    const partial = partials[before.partials]
    results.push({
      reference: clip,
      hypothesis: finals
        .slice(before.finals)
        .map((f) => f.text)
        .join(" "),
      finalMs: final === undefined ? Number.NaN : final.at - endAt,
      partialMs: partial === undefined ? undefined : partial.at - startAt
    })
  }
  const stats = yield* transcriber.stats
  yield* Effect.promise(() => speaker.endpoint.close())
  return { results, stats }
})

/** The baseline: Debian's pocketsphinx CLI on the same clips as 16 kHz WAV files. */
const cliBaseline = (dir: string) =>
  CLIPS.map((clip, i) => {
    const file = join(dir, `clip-${i}.wav`)
    writeFileSync(file, speechWav(clip))
    const out = execFileSync("pocketsphinx_continuous", ["-infile", file, "-logfn", "/dev/null"], {
      encoding: "utf8"
    })
    return { reference: clip, hypothesis: out.replace(/\n/g, " ").trim() }
  })

/** K decoders on one core, each fed the clips in real time: do all finals come within 1.5 s? */
const decodersOnOneCore = async (k: number, pcm: ReadonlyArray<Int16Array>) => {
  const binary = pocketsphinxHelper(defaultPocketsphinxOptions().cacheDir)
  const model = defaultPocketsphinxOptions().modelDir
  const lags: Array<number> = []
  let cpu = 0
  let audioSeconds = 0
  await Promise.all(
    Array.from({ length: k }, async () => {
      const child = spawn(
        "taskset",
        [
          "-c",
          "1",
          binary,
          "-hmm",
          join(model, "en-us"),
          "-lm",
          join(model, "en-us.lm.bin"),
          "-dict",
          join(model, "cmudict-en-us.dict"),
          "-logfn",
          "/dev/null"
        ],
        { stdio: ["pipe", "pipe", "ignore"] }
      )
      let buffered = ""
      const waiting: Array<(line: string) => void> = []
      const lines: Array<string> = []
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString()
        let cut = buffered.indexOf("\n")
        while (cut >= 0) {
          const line = buffered.slice(0, cut)
          buffered = buffered.slice(cut + 1)
          lines.push(line)
          for (const w of waiting.splice(0)) w(line)
          cut = buffered.indexOf("\n")
        }
      })
      const next = (prefix: string) =>
        new Promise<void>((resolve) => {
          const check = () => {
            const i = lines.findIndex((l) => l.startsWith(prefix))
            if (i >= 0) {
              lines.splice(0, i + 1)
              resolve()
            } else waiting.push(check)
          }
          check()
        })
      await next("R")
      const start = cpuSeconds(child.pid!)
      for (const clip of pcm) {
        child.stdin.write(frame("S"))
        const begin = Date.now()
        for (let i = 0; i < clip.length; i += 320) {
          const due = begin + (i / 320) * 20
          const wait = due - Date.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
          child.stdin.write(frame("A", clip.subarray(i, i + 320)))
        }
        const ended = Date.now()
        child.stdin.write(frame("E"))
        await next("F")
        lags.push(Date.now() - ended)
        audioSeconds += clip.length / 16_000
      }
      cpu += cpuSeconds(child.pid!) - start
      child.stdin.end()
    })
  )
  return { keepsUp: lags.every((lag) => lag <= 1500), worstLagMs: Math.max(...lags), rtf: cpu / audioSeconds }
}

const main = async () => {
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`
  )
  const dir = mkdtempSync(join(tmpdir(), "spaces-captions-bench-"))
  try {
    const authority = testAuthority()
    authority.speaker("bench-captions" as SpaceId, "bench-host" as UserId)
    const layer = MediaPlaneLive({ workers: 1, logLevel: "error" }).pipe(Layer.provide(authority.layer))
    const { results, stats } = await Effect.runPromise(
      Effect.scoped(throughTheRoom).pipe(Effect.provide(layer))
    )
    const baseline = cliBaseline(dir)

    console.log("\nclip | transcriber (Opus, live) | pocketsphinx CLI (WAV)")
    for (const [i, r] of results.entries())
      console.log(`${r.reference} | ${r.hypothesis} | ${baseline[i]!.hypothesis}`)
    const finals = results.map((r) => r.finalMs).filter((x) => !Number.isNaN(x))
    const partials = results.map((r) => r.partialMs).filter((x): x is number => x !== undefined)
    console.log("\n| figure | ours | baseline |")
    console.log("|---|---|---|")
    console.log(
      `| end of phrase → final caption, p50 / p95 | ${ms(percentile(finals, 50))} / ${ms(percentile(finals, 95))} | – |`
    )
    console.log(
      `| start of phrase → first partial, p50 / p95 | ${partials.length === 0 ? "none" : `${ms(percentile(partials, 50))} / ${ms(percentile(partials, 95))}`} | – (the CLI has no partials) |`
    )
    const ours = wer(results)
    const theirs = wer(baseline)
    console.log(
      `| word error rate, ${CLIPS.length} espeak clips | ${pct(ours)} | ${pct(theirs)} (pocketsphinx_continuous on the WAVs); ratio ${(ours / theirs).toFixed(2)}× |`
    )
    console.log(
      `(phrases ${stats.phrases}, finals ${stats.finals}, skipped ${stats.skippedBusy + stats.skippedBehind}, decoded packets ${stats.decodedPackets})`
    )

    const pcm = CLIPS.slice(0, 4).map((clip) => concatPcm(speechPcm(clip), silencePcm(300)))
    let best = 0
    let last: Awaited<ReturnType<typeof decodersOnOneCore>> | undefined
    for (let k = 1; k <= 8; k++) {
      const run = await decodersOnOneCore(k, pcm)
      console.log(
        `${k} speaker(s) on one core: worst final lag ${ms(run.worstLagMs)}, CPU per audio second ${run.rtf.toFixed(2)} → ${run.keepsUp ? "keeps up" : "falls behind"}`
      )
      if (!run.keepsUp) break
      best = k
      last = run
    }
    console.log(
      `\n| speakers talking at once that one core keeps up with | ${best} | 1 (a single stream; real-time factor ${last?.rtf.toFixed(2) ?? "?"}) | ${best}× |`
    )
    // On a shared machine the pinned core is not ours alone: CPU per audio second says what it would hold.
    if (last !== undefined)
      console.log(
        `| the same from CPU time (1 / CPU seconds per audio second) | ${Math.floor(1 / last.rtf)} | – | – |`
      )
    console.log(
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
