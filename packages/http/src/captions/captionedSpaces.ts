import type { SpaceId } from "@spaces/domain"
import { Effect } from "effect"

/** Where the log follower sends "captions on/off" for a Space (the transcriber, this registry). */
export interface CaptionsSwitch {
  readonly setCaptions: (spaceId: SpaceId, on: boolean, startedAt: number) => Effect.Effect<void>
}

/**
 * The live Spaces with captions on, and since when each is live: what an external transcriber
 * lists (`GET /v1/captions/spaces`) to know what to transcribe. Kept from the log by the same
 * follower as the in-process transcriber.
 */
export interface CaptionedSpaces extends CaptionsSwitch {
  readonly list: () => ReadonlyArray<{ readonly spaceId: SpaceId; readonly startedAt: number }>
  readonly has: (spaceId: SpaceId) => boolean
}

export const makeCaptionedSpaces = (): CaptionedSpaces => {
  const spaces = new Map<SpaceId, number>()
  return {
    setCaptions: (spaceId, on, startedAt) =>
      Effect.sync(() => {
        if (on) spaces.set(spaceId, startedAt)
        else spaces.delete(spaceId)
      }),
    list: () => [...spaces].map(([spaceId, startedAt]) => ({ spaceId, startedAt })),
    has: (spaceId) => spaces.has(spaceId)
  }
}

/** One switch that turns several. */
export const bothSwitches = (a: CaptionsSwitch, b: CaptionsSwitch): CaptionsSwitch => ({
  setCaptions: (spaceId, on, startedAt) =>
    Effect.zipRight(a.setCaptions(spaceId, on, startedAt), b.setCaptions(spaceId, on, startedAt))
})
