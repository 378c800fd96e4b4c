import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Option } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "../instructions.js"
import { requireWorker, withPlane } from "../testing/harness.js"
import { plainSpeaker, spaceId, userId } from "../testing/peers.js"
import { opusRtpParameters } from "../testing/rtp.js"
import { sleep, waitUntil } from "../testing/udp.js"
import { OPUS_SILENCE_20MS } from "./oggOpus.js"
import { readRecordingManifest } from "./manifest.js"

beforeAll(requireWorker)

/** The audio packets of an Ogg Opus file (after the two header packets), and its last granule. */
const readOggOpus = (bytes: Buffer) => {
  const packets: Array<Buffer> = []
  let granule = 0n
  let offset = 0
  let pending: Array<Buffer> = []
  while (offset < bytes.length) {
    expect(bytes.toString("latin1", offset, offset + 4)).toBe("OggS")
    const segments = bytes[offset + 26]!
    let data = offset + 27 + segments
    for (let i = 0; i < segments; i++) {
      const value = bytes[offset + 27 + i]!
      pending.push(bytes.subarray(data, data + value))
      data += value
      if (value < 255) {
        packets.push(Buffer.concat(pending))
        pending = []
      }
    }
    granule = bytes.readBigInt64LE(offset + 6)
    offset = data
  }
  return { head: packets[0], tags: packets[1], audio: packets.slice(2), granule }
}

describe("recording", () => {
  it("writes each speaker's track as Ogg Opus, silence while muted, with a manifest", () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-recording-"))
    const space = spaceId("recorded")
    const host = userId("host")
    return withPlane({ recordingsDir: dir }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: true }))
        authority.speaker(space, host)
        const speaker = yield* plainSpeaker(plane, space, host, 31337)
        const recorded = (frames: number) =>
          Effect.promise(() =>
            waitUntil(() => {
              const samples = Effect.runSync(
                plane.stats(space).pipe(
                  Effect.map((s) => s.recordedSamples ?? 0),
                  Effect.orElseSucceed(() => 0)
                )
              )
              return samples >= frames * 960
            })
          )
        const send = (from: number, to: number) =>
          Effect.promise(async () => {
            for (let index = from; index < to; index++) {
              await speaker.send(index)
              if (index % 10 === 9) await sleep(2)
            }
          })

        yield* send(0, 20)
        yield* recorded(20)
        yield* plane.apply(MediaInstruction.SpeakerMuted({ spaceId: space, userId: host }))
        yield* send(20, 40)
        yield* plane.apply(MediaInstruction.SpeakerUnmuted({ spaceId: space, userId: host }))
        yield* send(40, 60)
        // 40 packets sent while unmuted + 20 frames of silence for the muted gap.
        yield* recorded(60)
        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))

        const manifest = Option.getOrThrow(yield* readRecordingManifest(dir, space))
        expect(manifest.spaceId).toBe(space)
        expect(manifest.tracks).toHaveLength(1)
        const [track] = manifest.tracks
        expect(track).toMatchObject({ userId: host, producerId: speaker.producerId, samples: 60 * 960 })
        expect(track?.startOffsetMs).toBeGreaterThanOrEqual(0)
        expect(track?.endOffsetMs).toBeGreaterThanOrEqual(track?.startOffsetMs ?? 0)

        const ogg = readOggOpus(readFileSync(join(dir, space, track!.file)))
        expect(ogg.head?.toString("latin1", 0, 8)).toBe("OpusHead")
        expect(ogg.tags?.toString("latin1", 0, 8)).toBe("OpusTags")
        expect(ogg.audio).toHaveLength(60)
        expect(ogg.granule).toBe(60n * 960n)
        const isSilence = (p: Buffer) => p.equals(Buffer.from(OPUS_SILENCE_20MS))
        expect(ogg.audio.slice(20, 40).every(isSilence)).toBe(true)
        const spoken = [...ogg.audio.slice(0, 20), ...ogg.audio.slice(40)].map((p) => p.readUInt32BE(1))
        expect(spoken).toEqual([
          ...Array.from({ length: 20 }, (_, i) => i),
          ...Array.from({ length: 20 }, (_, i) => 40 + i)
        ])
      })
    )
  })

  it("one track per speaker turn, however many produce calls; the manifest journal is only appended to", () => {
    const dir = mkdtempSync(join(tmpdir(), "spaces-recording-"))
    const space = spaceId("turns")
    const host = userId("host")
    const journal = join(dir, space, "manifest.jsonl")
    return withPlane({ recordingsDir: dir }, (plane, authority) =>
      Effect.gen(function* () {
        yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: true }))
        authority.speaker(space, host)
        const caller = { spaceId: space, userId: host }
        const speaker = yield* plainSpeaker(plane, space, host, 4000)
        const samples = () =>
          Effect.runSync(
            plane.stats(space).pipe(
              Effect.map((s) => s.recordedSamples ?? 0),
              Effect.orElseSucceed(() => 0)
            )
          )
        yield* Effect.promise(async () => {
          for (let index = 0; index < 5; index++) await speaker.send(index)
        })
        yield* Effect.promise(() => waitUntil(() => samples() >= 5 * 960))
        const sizes: Array<string> = [readFileSync(journal, "utf8")]
        // Three more produce calls on the same transport (a re-publishing client): same turn.
        for (const ssrc of [4001, 4002, 4003]) {
          yield* plane.produce(caller, speaker.transportId, opusRtpParameters(ssrc))
          sizes.push(readFileSync(journal, "utf8"))
        }
        let manifest = Option.getOrThrow(yield* readRecordingManifest(dir, space))
        expect(manifest.tracks).toHaveLength(1)
        // The speaker steps down and comes back: a second turn, a second track.
        yield* plane.apply(MediaInstruction.SpeakerRevoked({ spaceId: space, userId: host }))
        sizes.push(readFileSync(journal, "utf8"))
        const again = yield* plainSpeaker(plane, space, host, 5000)
        expect(again.producerId).not.toBe(speaker.producerId)
        yield* plane.apply(MediaInstruction.SpaceEnded({ spaceId: space }))
        sizes.push(readFileSync(journal, "utf8"))
        manifest = Option.getOrThrow(yield* readRecordingManifest(dir, space))
        expect(manifest.tracks.map((t) => t.userId)).toEqual([host, host])
        expect(manifest.tracks[0]).toMatchObject({ samples: 5 * 960 })
        expect(manifest.tracks.every((t) => t.endOffsetMs !== null)).toBe(true)
        // Every version of the journal starts with the one before: appended, never rewritten.
        for (let i = 1; i < sizes.length; i++) expect(sizes[i]!.startsWith(sizes[i - 1]!)).toBe(true)
        expect(existsSync(join(dir, space, "manifest.json"))).toBe(false)
        const files = readdirSync(join(dir, space)).filter((f) => f.endsWith(".opus"))
        expect(files).toHaveLength(2)
      })
    )
  })
})
