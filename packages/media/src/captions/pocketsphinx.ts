import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import {
  Recogniser,
  RecogniserBusy,
  RecogniserFailed,
  type RecogniserService,
  samplesToMs,
  type Utterance
} from "./Recogniser.js"

export interface PocketsphinxOptions {
  /** Decoders kept loaded (one process each, ~110 MB): phrases recognised at the same time. */
  readonly decoders: number
  /** Debian's pocketsphinx-en-us model directory (`en-us/`, `en-us.lm.bin`, `cmudict-en-us.dict`). */
  readonly modelDir: string
  /** Where the helper program is built (once per source version). */
  readonly cacheDir: string
  /** A phrase whose audio the decoder is further behind than this is dropped (captions skip). */
  readonly maxBacklogMs: number
}

export const defaultPocketsphinxOptions = (): PocketsphinxOptions => ({
  decoders: 2,
  modelDir: "/usr/share/pocketsphinx/model/en-us",
  cacheDir: join(homedir(), ".cache", "spaces", "captions"),
  maxBacklogMs: 4000
})

const ENGINE = "pocketsphinx"
const SOURCE = fileURLToPath(new URL("./pocketsphinx/ps_stream.c", import.meta.url))

/**
 * The helper (`ps_stream.c`, beside this file) compiled against Debian's libpocketsphinx, cached
 * by the hash of its source. A missing compiler or library fails here with the packages to install.
 */
export const pocketsphinxHelper = (cacheDir: string): string => {
  const source = readFileSync(SOURCE)
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12)
  const binary = join(cacheDir, `ps_stream-${hash}`)
  if (existsSync(binary)) return binary
  mkdirSync(cacheDir, { recursive: true })
  try {
    const flags = execFileSync("pkg-config", ["--cflags", "--libs", "pocketsphinx", "sphinxbase"], {
      encoding: "utf8"
    })
      .trim()
      .split(/\s+/)
    const partial = `${binary}.${process.pid}.tmp`
    execFileSync("cc", ["-O2", "-o", partial, SOURCE, ...flags], { stdio: ["ignore", "ignore", "pipe"] })
    renameSync(partial, binary)
  } catch (error) {
    throw new Error(
      `cannot build the pocketsphinx helper (install the Debian packages gcc, pkg-config, libpocketsphinx-dev, libsphinxbase-dev and pocketsphinx-en-us: npm run setup): ${String(error)}`
    )
  }
  return binary
}

/** The frame of the helper's stdin protocol: [tag][u32 LE length][payload]. */
export const frame = (tag: "S" | "A" | "E", payload?: Int16Array): Buffer => {
  const header = Buffer.alloc(5)
  header.write(tag, 0, "ascii")
  header.writeUInt32LE(payload?.byteLength ?? 0, 1)
  return payload === undefined
    ? header
    : Buffer.concat([header, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)])
}

/** A phrase given to a decoder: open while its audio is pushed, then waiting for its final. */
interface Phrase {
  open: boolean
  pushed: number
  decoded: number
  onPartial: (text: string) => void
  /** Set by `finish`; a cancelled phrase has none (its final is dropped). */
  onFinal: ((text: string) => void) | undefined
  onDeath: ((reason: string) => void) | undefined
}

/**
 * One loaded decoder: a helper process that recognises phrases one after another. It takes a new
 * phrase as soon as the previous one's audio has ended (its final may still be computing: the
 * helper reads its stdin in order), so a speaker's next phrase never waits for the last's text.
 */
class Decoder {
  readonly process: ChildProcess
  dead = false
  /** In the helper's order: its output lines belong to the oldest phrase without a final. */
  private readonly phrases: Array<Phrase> = []

  constructor(binary: string, modelDir: string) {
    this.process = spawn(
      binary,
      [
        "-hmm",
        join(modelDir, "en-us"),
        "-lm",
        join(modelDir, "en-us.lm.bin"),
        "-dict",
        join(modelDir, "cmudict-en-us.dict"),
        "-logfn",
        "/dev/null"
      ],
      { stdio: ["pipe", "pipe", "ignore"] }
    )
    this.process.stdin!.on("error", () => undefined)
    const lines = createInterface({ input: this.process.stdout! })
    lines.on("line", (line) => {
      const tab = line.indexOf("\t")
      const tag = tab < 0 ? line : line.slice(0, tab)
      const text = tab < 0 ? "" : line.slice(tab + 1)
      const head = this.phrases[0]
      if (head === undefined) return
      if (tag === "K") head.decoded = Number(text)
      else if (tag === "P") head.onPartial(text)
      else if (tag === "F") {
        this.phrases.shift()
        head.onFinal?.(text)
      }
    })
    const die = (reason: string) => {
      if (this.dead) return
      this.dead = true
      for (const phrase of this.phrases.splice(0)) phrase.onDeath?.(reason)
    }
    this.process.once("exit", (code, signal) => die(`the decoder exited (${signal ?? code})`))
    this.process.once("error", (error) => die(error.message))
  }

  /** A phrase's audio is being pushed: the decoder can't take another yet. */
  get busy(): boolean {
    return this.phrases.some((phrase) => phrase.open)
  }

  begin(onPartial: (text: string) => void): Utterance {
    const phrase: Phrase = {
      open: true,
      pushed: 0,
      decoded: 0,
      onPartial,
      onFinal: undefined,
      onDeath: undefined
    }
    this.phrases.push(phrase)
    this.process.stdin!.write(frame("S"))
    const close = () => {
      phrase.open = false
      this.process.stdin!.write(frame("E"))
    }
    return {
      push: (pcm) => {
        if (!phrase.open || this.dead) return
        phrase.pushed += pcm.length
        this.process.stdin!.write(frame("A", pcm))
      },
      // A phrase queued behind another's final counts as not decoded at all yet.
      backlogMs: () => samplesToMs(Math.max(0, phrase.pushed - phrase.decoded)),
      finish: Effect.async<string, RecogniserFailed>((resume) => {
        const fail = (reason: string) => resume(Effect.fail(new RecogniserFailed({ engine: ENGINE, reason })))
        if (!phrase.open || this.dead)
          return fail(this.dead ? "the decoder died" : "the phrase was cancelled")
        // Partials still due (a decoder catching up) keep coming until the final: they precede it.
        phrase.onFinal = (text) => {
          phrase.onPartial = () => {}
          resume(Effect.succeed(text.trim()))
        }
        phrase.onDeath = fail
        close()
      }),
      cancel: Effect.sync(() => {
        if (!phrase.open) return
        phrase.onPartial = () => {}
        // The helper ends the phrase and answers; the answer is dropped.
        close()
      })
    }
  }

  kill(): void {
    this.dead = true
    this.process.kill()
  }
}

/**
 * The embedded default: pocketsphinx (CMU Sphinx, BSD) with Debian's US English model, in helper
 * processes so recognition never runs on the event loop. Decoders start on first use and stay.
 */
export const makePocketsphinx = (options: PocketsphinxOptions) =>
  Effect.gen(function* () {
    const decoders: Array<Decoder> = []
    let binary: string | undefined
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const decoder of decoders) decoder.kill()
      })
    )

    const spawnDecoder = () => {
      binary ??= pocketsphinxHelper(options.cacheDir)
      const decoder = new Decoder(binary, options.modelDir)
      decoders.push(decoder)
      return decoder
    }

    /** A free decoder: a live idle one, else a new one while under the limit. */
    const freeDecoder = (): Decoder | undefined => {
      for (let i = decoders.length - 1; i >= 0; i--) if (decoders[i]!.dead) decoders.splice(i, 1)
      const idle = decoders.find((decoder) => !decoder.busy)
      if (idle !== undefined) return idle
      return decoders.length < options.decoders ? spawnDecoder() : undefined
    }

    const service: RecogniserService = {
      engine: ENGINE,
      partials: true,
      open: (onPartial) =>
        Effect.suspend(() => {
          const decoder = freeDecoder()
          return decoder === undefined
            ? Effect.fail(new RecogniserBusy({ engine: ENGINE }))
            : Effect.succeed(decoder.begin(onPartial))
        }),
      warm: Effect.sync(() => {
        if (decoders.filter((decoder) => !decoder.dead).length === 0) spawnDecoder()
      }).pipe(Effect.catchAllDefect((defect) => Effect.logError("pocketsphinx could not start", defect)))
    }
    return service
  })

export const PocketsphinxRecogniser = (options: Partial<PocketsphinxOptions> = {}) =>
  Layer.scoped(Recogniser, makePocketsphinx({ ...defaultPocketsphinxOptions(), ...options }))
