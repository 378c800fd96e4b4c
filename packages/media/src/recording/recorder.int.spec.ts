import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { MediaInstruction } from "../instructions.js"
import { requireWorker, withPlane } from "../testing/harness.js"
import { plainSpeaker, spaceId, userId } from "../testing/peers.js"
import { sleep, waitUntil } from "../testing/udp.js"
import { OPUS_SILENCE_20MS } from "./oggOpus.js"
import type { RecordingManifest } from "./manifest.js"

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

        const manifest = JSON.parse(
          readFileSync(join(dir, space, "manifest.json"), "utf8")
        ) as RecordingManifest
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
})
