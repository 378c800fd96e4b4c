import { SpaceId } from "@spaces/domain"
import { describe, expect, it } from "vitest"
import { clientRejection, type RoomAtRejection, serverRejection } from "./mediasoupCalls.js"

const open: RoomAtRejection = { spaceId: SpaceId.make("s"), closed: false, workerDied: false }
/** What mediasoup rejects with: a plain Error from the worker, or a named one from its checks. */
const named = (name: string, message: string) => Object.assign(new Error(message), { name })

describe("a rejected mediasoup request", () => {
  it("is the client's mistake when a live worker refuses the client's own request", () => {
    for (const message of ["connect() already called [method:transport.connect]", "ssrc already exists"]) {
      const error = clientRejection(open, new Error(message))
      expect(error._tag).toBe("MediaRequestRejected")
      expect(error).toMatchObject({ kind: "state" })
    }
  })

  it("is the server's side when the worker died, timed out or closed, or the server made the request", () => {
    expect(clientRejection({ ...open, workerDied: true }, new Error("connect() already called"))._tag).toBe(
      "MediaUnavailable"
    )
    expect(clientRejection(open, new Error("request timeout"))._tag).toBe("MediaUnavailable")
    expect(clientRejection(open, named("InvalidStateError", "Channel closed"))._tag).toBe("MediaUnavailable")
    expect(serverRejection(open, new Error("ssrc already exists"))._tag).toBe("MediaUnavailable")
  })

  it("is incompatible media for parameters mediasoup cannot use, and a closed room first of all", () => {
    expect(clientRejection(open, named("TypeError", "missing codecs"))._tag).toBe("MediaIncompatibleMedia")
    expect(serverRejection(open, named("UnsupportedError", "no Opus"))._tag).toBe("MediaIncompatibleMedia")
    expect(clientRejection({ ...open, closed: true }, new Error("connect() already called"))._tag).toBe(
      "MediaRoomNotOpen"
    )
  })
})
