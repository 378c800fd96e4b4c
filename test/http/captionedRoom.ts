import { SpaceId, UserId } from "@spaces/domain"
import { Effect } from "effect"
import { expect } from "vitest"
import { plainSpeaker } from "../../packages/media/src/testing/peers.js"
import { waitUntil } from "../../packages/media/src/testing/udp.js"
import { client, startTestServer } from "./harness.js"

/**
 * A server with media on and a live captioned Space: its host unmuted and speaking through a plain
 * RTP endpoint on the media plane (SSRC `ssrc`), a listener joined. The speakers hold no live
 * connection, so the presence grace is set past any set-up on a loaded machine.
 */
export const openCaptionedRoom = async (options: {
  readonly env: Record<string, string>
  readonly spaceId: string
  readonly title: string
  readonly host: string
  readonly listener: string
  readonly ssrc: number
}) => {
  const t = await startTestServer({
    SPACES_MEDIA: "on",
    SPACES_MEDIA_WORKERS: "1",
    SPACES_DISCONNECT_GRACE_MS: "3600000",
    ...options.env
  })
  if (!t.server.media.available) throw new Error("the test server has no media plane")
  const plane = t.server.media.plane
  const { spaceId } = options
  const host = await client(t.url, options.host)
  const listener = await client(t.url, options.listener)
  const created = await host.call("POST", "/v1/spaces", {
    spaceId,
    title: options.title,
    topics: [],
    speakPolicy: "everyone",
    recording: false,
    captions: true
  })
  expect(created.status).toBe(201)
  expect((await host.call("POST", `/v1/spaces/${spaceId}/speakers/${options.host}/unmute`)).status).toBe(200)
  expect((await listener.call("POST", `/v1/spaces/${spaceId}/join`)).status).toBe(200)
  const space = SpaceId.make(spaceId)
  expect(await waitUntil(() => Effect.runSync(Effect.either(plane.stats(space)))._tag === "Right")).toBe(true)
  const speaker = await Effect.runPromise(plainSpeaker(plane, space, UserId.make(options.host), options.ssrc))
  return { t, plane, host, listener, speaker }
}
