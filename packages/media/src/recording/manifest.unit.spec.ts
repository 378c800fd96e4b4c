import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SpaceId } from "@spaces/domain"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { readRecordingManifest, recordingDir } from "./manifest.js"

describe("recording layout", () => {
  it("keeps every Space's directory inside the recordings root, even for '.' and '..'", () => {
    expect(recordingDir("/r", SpaceId.make("s_1"))).toBe("/r/s_1")
    expect(recordingDir("/r", SpaceId.make(".."))).toBe("/r/%2E%2E")
    expect(recordingDir("/r", SpaceId.make("."))).toBe("/r/%2E")
    expect(recordingDir("/r", SpaceId.make("..."))).toBe("/r/...")
  })

  it("reads a manifest: none when the Space was never recorded, an error when it is damaged", async () => {
    const root = mkdtempSync(join(tmpdir(), "spaces-manifest-"))
    const read = (id: string) =>
      Effect.runPromise(Effect.either(readRecordingManifest(root, SpaceId.make(id))))
    const never = await read("never")
    expect(never._tag === "Right" && Option.isNone(never.right)).toBe(true)

    mkdirSync(join(root, "good"))
    const manifest = {
      spaceId: "good",
      startedAt: 1,
      tracks: [
        {
          file: "001-u.opus",
          userId: "u",
          producerId: "p",
          startOffsetMs: 5,
          endOffsetMs: null,
          samples: 960
        }
      ]
    }
    writeFileSync(join(root, "good", "manifest.json"), JSON.stringify(manifest))
    const good = await read("good")
    expect(good._tag === "Right" && Option.getOrNull(good.right)).toEqual(manifest)

    mkdirSync(join(root, "bad"))
    writeFileSync(join(root, "bad", "manifest.json"), '{"spaceId":"bad","tracks":[{"file":"../x"}]}')
    const bad = await read("bad")
    expect(bad._tag === "Left" && bad.left._tag).toBe("RecordingUnreadable")
  })
})
