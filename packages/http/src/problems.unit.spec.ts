import {
  ConcurrencyConflict,
  IdempotencyKeyReused,
  NotASpeaker,
  NotPermitted,
  ScheduledSpaceExpired,
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

  it("a late start is a state conflict naming the deadline; a reused idempotency key is a 422", () => {
    const expired = fromError(
      new ScheduledSpaceExpired({ spaceId: SpaceId.make("s1"), expiredAt: 7_200_000, expiryMs: 3_600_000 })
    ).toDocument(undefined)
    expect(expired).toMatchObject({
      type: "https://spaces.dev/problems/scheduled-space-expired",
      title: "Scheduled space expired",
      status: 409,
      spaceId: "s1",
      expiredAt: 7_200_000,
      expiryMs: 3_600_000
    })
    expect(expired.detail).toContain("within 1 hour")
    expect(fromError(new IdempotencyKeyReused({ key: "k1" })).toDocument(undefined)).toMatchObject({
      type: "https://spaces.dev/problems/idempotency-key-reused",
      title: "Idempotency key reused",
      status: 422,
      key: "k1"
    })
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
