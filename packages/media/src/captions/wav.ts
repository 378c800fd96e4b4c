import { SAMPLE_RATE } from "./Recogniser.js"

/** A RIFF/WAVE file of 16-bit mono PCM at 16 kHz (what Whisper-compatible servers accept). */
export const wavFile = (pcm: Int16Array, sampleRate = SAMPLE_RATE): Buffer => {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)
  const header = Buffer.alloc(44)
  header.write("RIFF", 0, "ascii")
  header.writeUInt32LE(36 + data.length, 4)
  header.write("WAVE", 8, "ascii")
  header.write("fmt ", 12, "ascii")
  header.writeUInt32LE(16, 16) // fmt chunk size
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(sampleRate, 24)
  header.writeUInt32LE(sampleRate * 2, 28) // byte rate
  header.writeUInt16LE(2, 32) // block align
  header.writeUInt16LE(16, 34) // bits per sample
  header.write("data", 36, "ascii")
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}

export interface WavAudio {
  readonly sampleRate: number
  readonly channels: number
  readonly bitsPerSample: number
  readonly samples: Int16Array
}

/** Reads a PCM WAV file (16-bit); undefined when it is not one. Walks the chunks (espeak adds none, others do). */
export const readWav = (file: Buffer): WavAudio | undefined => {
  if (file.length < 12 || file.toString("ascii", 0, 4) !== "RIFF" || file.toString("ascii", 8, 12) !== "WAVE")
    return undefined
  let offset = 12
  let format: { sampleRate: number; channels: number; bitsPerSample: number; pcm: boolean } | undefined
  while (offset + 8 <= file.length) {
    const id = file.toString("ascii", offset, offset + 4)
    // espeak-ng writes 0x7fffffff as the data size of a stream: clamp to the file.
    const size = Math.min(file.readUInt32LE(offset + 4), file.length - offset - 8)
    const body = offset + 8
    if (id === "fmt ") {
      format = {
        pcm: file.readUInt16LE(body) === 1,
        channels: file.readUInt16LE(body + 2),
        sampleRate: file.readUInt32LE(body + 4),
        bitsPerSample: file.readUInt16LE(body + 14)
      }
    } else if (id === "data") {
      if (format === undefined || !format.pcm || format.bitsPerSample !== 16) return undefined
      const bytes = file.subarray(body, body + size - (size % 2))
      const samples = new Int16Array(bytes.length / 2)
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2)
      return { ...format, samples }
    }
    offset = body + size + (size % 2)
  }
  return undefined
}
