import { describe, expect, it } from "vitest"
import { opusRtpPacket } from "../testing/rtp.js"
import { pcmLevelDbov, rtpAudio } from "./rtpAudio.js"
import { readWav, wavFile } from "./wav.js"

describe("RTP audio", () => {
  it("reads the payload, the timestamp and the ssrc-audio-level extension", () => {
    const packet = opusRtpPacket({ ssrc: 1, index: 3, payloadSize: 40, level: 42 })
    const audio = rtpAudio(packet, 1)
    expect(audio?.timestamp).toBe(3 * 960)
    expect(audio?.payload.length).toBe(40)
    expect(audio?.levelDbov).toBe(-42)
    // Another extension id: no level (the transcriber then measures the decoded audio).
    expect(rtpAudio(packet, 5)?.levelDbov).toBeUndefined()
  })

  it("measures PCM levels in dBov", () => {
    expect(pcmLevelDbov(new Int16Array(320))).toBe(-127)
    expect(pcmLevelDbov(new Int16Array(320).fill(32767))).toBeCloseTo(0, 0)
    expect(pcmLevelDbov(new Int16Array(320).fill(328))).toBeCloseTo(-40, 0)
  })

  it("writes and reads back a 16 kHz mono WAV", () => {
    const pcm = Int16Array.from({ length: 1000 }, (_, i) => (i * 37) % 2000)
    const wav = wavFile(pcm)
    expect(wav.length).toBe(44 + 2000)
    expect(readWav(wav)).toMatchObject({ sampleRate: 16_000, channels: 1, bitsPerSample: 16 })
    expect(Array.from(readWav(wav)!.samples)).toEqual(Array.from(pcm))
  })
})
