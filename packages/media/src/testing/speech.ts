/** Speech for tests and benchmarks: espeak-ng sentences as 16 kHz PCM, and as real Opus RTP. */
import { execFileSync } from "node:child_process"
import OpusScript from "opusscript"
import { pcmLevelDbov } from "../captions/rtpAudio.js"
import { readWav, wavFile } from "../captions/wav.js"
import { AUDIO_LEVEL_EXTENSION_ID, OPUS_PAYLOAD_TYPE, SAMPLES_PER_PACKET } from "./rtp.js"

/** A voice and pace that Debian's pocketsphinx model hears well (measured over a set of sentences). */
export const TEST_VOICE = "en-us+klatt3"
export const TEST_WORDS_PER_MINUTE = 130

/** `text` spoken by espeak-ng, resampled by sox to 16 kHz mono 16-bit PCM. */
export const speechPcm = (text: string, voice = TEST_VOICE): Int16Array => {
  const wav = execFileSync(
    "espeak-ng",
    ["-v", voice, "-s", String(TEST_WORDS_PER_MINUTE), "--stdout", text],
    {
      maxBuffer: 64 << 20
    }
  )
  const resampled = execFileSync(
    "sox",
    ["-V1", "-t", "wav", "-", "-r", "16000", "-c", "1", "-b", "16", "-t", "wav", "-"],
    {
      input: wav,
      maxBuffer: 64 << 20
    }
  )
  const audio = readWav(resampled)
  if (audio === undefined) throw new Error("sox did not give a 16-bit WAV")
  return audio.samples
}

/**
 * `text` spoken by espeak-ng as a mono 16-bit WAV file (a browser's fake microphone, a CLI
 * baseline): 16 kHz unless `rate` says otherwise, with optional silence after it.
 */
export const speechWav = (
  text: string,
  voice = TEST_VOICE,
  options: { readonly rate?: number; readonly trailingSilenceMs?: number } = {}
): Buffer => {
  const wav = execFileSync(
    "espeak-ng",
    ["-v", voice, "-s", String(TEST_WORDS_PER_MINUTE), "--stdout", text],
    {
      maxBuffer: 64 << 20
    }
  )
  const pad =
    options.trailingSilenceMs === undefined ? [] : ["pad", "0", `${options.trailingSilenceMs / 1000}`]
  const rate = options.rate ?? 16_000
  const piped = execFileSync(
    "sox",
    ["-V1", "-t", "wav", "-", "-r", String(rate), "-c", "1", "-b", "16", "-t", "wav", "-", ...pad],
    { input: wav, maxBuffer: 64 << 20 }
  )
  // sox can't fix the sizes in a header it wrote to a pipe: the file is written again, exact.
  const audio = readWav(piped)
  if (audio === undefined) throw new Error("sox did not give a 16-bit WAV")
  return wavFile(audio.samples, rate)
}

export const silencePcm = (ms: number): Int16Array => new Int16Array((16_000 * ms) / 1000)

export const concatPcm = (...parts: ReadonlyArray<Int16Array>): Int16Array => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

export interface OpusFrame {
  readonly payload: Buffer
  /** -dBov as the ssrc-audio-level extension carries it (0 loudest … 127 silent). */
  readonly level: number
}

/** 20 ms Opus frames of 16 kHz PCM, each with its level, as a browser's sender would make them. */
export const opusFrames = (pcm: Int16Array): Array<OpusFrame> => {
  const encoder = new OpusScript(16_000, 1, OpusScript.Application.VOIP)
  const frames: Array<OpusFrame> = []
  try {
    for (let offset = 0; offset < pcm.length; offset += 320) {
      const frame = new Int16Array(320)
      frame.set(pcm.subarray(offset, offset + 320))
      const payload = Buffer.from(encoder.encode(Buffer.from(frame.buffer), 320))
      frames.push({ payload, level: Math.min(127, Math.round(-pcmLevelDbov(frame))) })
    }
  } finally {
    encoder.delete()
  }
  return frames
}

/** An RTP packet with a real Opus payload and the audio-level extension. */
export const opusRtpPacketOf = (ssrc: number, index: number, frame: OpusFrame): Buffer => {
  const header = Buffer.alloc(20)
  header[0] = 0x90
  header[1] = OPUS_PAYLOAD_TYPE
  header.writeUInt16BE(index & 0xffff, 2)
  header.writeUInt32BE((index * SAMPLES_PER_PACKET) >>> 0, 4)
  header.writeUInt32BE(ssrc >>> 0, 8)
  header.writeUInt16BE(0xbede, 12)
  header.writeUInt16BE(1, 14)
  header[16] = AUDIO_LEVEL_EXTENSION_ID << 4
  header[17] = (frame.level < 127 ? 0x80 : 0) | (frame.level & 0x7f)
  return Buffer.concat([header, frame.payload])
}

/**
 * Sends the frames in real time (20 ms apart, the schedule kept against the clock so a slow
 * tick does not stretch it), as RTP from `firstIndex`; calls `onFrame` with each frame's send time.
 */
export const sendInRealTime = async (
  frames: ReadonlyArray<OpusFrame>,
  send: (packet: Buffer) => Promise<void>,
  options: {
    readonly ssrc: number
    readonly firstIndex?: number
    readonly onFrame?: (i: number, at: number) => void
  }
): Promise<number> => {
  const first = options.firstIndex ?? 0
  const start = Date.now()
  for (let i = 0; i < frames.length; i++) {
    const due = start + i * 20
    const wait = due - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    options.onFrame?.(i, Date.now())
    await send(opusRtpPacketOf(options.ssrc, first + i, frames[i]!))
  }
  return first + frames.length
}

/** Lower-case words without punctuation. */
export const wordsOf = (text: string): Array<string> =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, " ")
    .split(/\s+/)
    .filter((word) => word.length > 0)

/** The share of the spoken words found in the recognised text (each spoken word counted once). */
export const sharedWords = (spoken: string, heard: string): number => {
  const said = wordsOf(spoken)
  const got = new Set(wordsOf(heard))
  return said.length === 0 ? 0 : said.filter((word) => got.has(word)).length / said.length
}
