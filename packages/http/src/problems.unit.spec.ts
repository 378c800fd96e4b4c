import {
  ConcurrencyConflict,
  NotASpeaker,
  NotPermitted,
  SpaceId,
  SpeakerLimitReached,
  UserId
} from "@spaces/domain"
import { EventStoreUnavailable } from "@spaces/domain"
import { MediaUnavailable, NotASpeaker as MediaNotASpeaker } from "@spaces/media"
import { describe, expect, it } from "vitest"
import { fromError, fromMediaError, kebab } from "./problems.js"

describe("problem documents", () => {
  it("names each rule with a stable type and a status by kind", () => {
    const limit = fromError(new SpeakerLimitReached({ limit: 13 })).toDocument("/v1/x")
    expect(limit).toMatchObject({
      type: "https://spaces.dev/problems/speaker-limit-reached",
      title: "Speaker limit reached",
      status: 422,
      limit: 13,
      instance: "/v1/x"
    })
    expect(
      fromError(new NotPermitted({ action: "end", standing: "listener", rule: "only the host" })).status
    ).toBe(403)
    expect(fromError(new ConcurrencyConflict({ stream: "space-1", attempts: 25 })).status).toBe(409)
    const unavailable = fromError(new EventStoreUnavailable({ reason: "down" }))
    expect(unavailable.status).toBe(503)
    expect(unavailable.headers["retry-after"]).toBe("1")
    expect(fromError(new Error("boom")).status).toBe(500)
  })

  it("keeps acronym-like words apart and gives media errors their own types", () => {
    expect(kebab("NotASpeaker")).toBe("not-a-speaker")
    expect(kebab("NotACoHost")).toBe("not-a-co-host")
    const domain = fromError(new NotASpeaker({ user: UserId.make("u"), role: "listener" }))
    const media = fromMediaError(
      new MediaNotASpeaker({ spaceId: SpaceId.make("s"), userId: UserId.make("u") })
    )
    expect(domain.status).toBe(409)
    expect(media.status).toBe(403)
    expect(media.slug).toBe("media-not-a-speaker")
    expect(fromMediaError(new MediaUnavailable({ reason: "no worker" })).slug).toBe("media-unavailable")
  })
})
