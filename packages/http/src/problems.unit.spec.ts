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
import {
  IncompatibleMedia,
  MediaLimitReached,
  NotASpeaker as MediaNotASpeaker,
  MediaRequestRejected,
  MediaUnavailable,
  NotAParticipant,
  RoomNotOpen,
  UnknownConsumer,
  UnknownProducer,
  UnknownTransport,
  WrongTransportDirection
} from "@spaces/media"
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
    const media = fromError(new MediaNotASpeaker({ spaceId: SpaceId.make("s"), userId: UserId.make("u") }))
    expect(domain.status).toBe(409)
    expect(domain.slug).toBe("not-a-speaker")
    expect(media.status).toBe(403)
    expect(media.slug).toBe("media-not-a-speaker")
    expect(fromMediaError(new MediaUnavailable({ reason: "no worker" })).slug).toBe("media-unavailable")
  })

  it("maps every media error by its rule kind: a client's mistake is a 4xx, only the server's side a 503", () => {
    const spaceId = SpaceId.make("s")
    const userId = UserId.make("u")
    const answers = [
      [new MediaNotASpeaker({ spaceId, userId }), 403, "media-not-a-speaker"],
      [new NotAParticipant({ spaceId, userId }), 403, "media-not-a-participant"],
      [new RoomNotOpen({ spaceId }), 409, "media-room-not-open"],
      [new UnknownTransport({ spaceId, transportId: "t" }), 404, "media-unknown-transport"],
      [new UnknownProducer({ spaceId, producerId: "p" }), 404, "media-unknown-producer"],
      [new UnknownConsumer({ spaceId, consumerId: "c" }), 404, "media-unknown-consumer"],
      [
        new WrongTransportDirection({ spaceId, transportId: "t", expected: "send" }),
        409,
        "media-wrong-transport-direction"
      ],
      [new IncompatibleMedia({ spaceId, reason: "no Opus" }), 422, "media-incompatible-media"],
      [new MediaLimitReached({ spaceId, limit: "consumersPerUser", max: 2 }), 422, "media-limit-reached"],
      [
        new MediaRequestRejected({ spaceId, reason: "connect() already called" }),
        409,
        "media-request-rejected"
      ],
      [new MediaUnavailable({ reason: "worker died" }), 503, "media-unavailable"]
    ] as const
    for (const [error, status, slug] of answers) {
      const problem = fromError(error)
      expect([error._tag, problem.status, problem.slug]).toEqual([error._tag, status, slug])
      expect(problem.message).not.toBe("")
    }
    expect(fromError(new MediaUnavailable({ reason: "worker died" })).headers).toEqual({
      "retry-after": "30"
    })
    expect(
      fromError(new MediaRequestRejected({ spaceId, reason: "ssrc already exists" })).toDocument(undefined)
    ).toMatchObject({
      status: 409,
      detail: "ssrc already exists",
      reason: "ssrc already exists"
    })
  })
})
