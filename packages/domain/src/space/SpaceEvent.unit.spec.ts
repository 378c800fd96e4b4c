import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { SpaceEvent } from "./SpaceEvent.js"

const decode = Schema.decodeUnknownSync(SpaceEvent)
const encode = Schema.encodeSync(SpaceEvent)
/** Where and when every event below happens. */
const inS1 = { spaceId: "s1", at: 1 }

describe("leave reasons in the log", () => {
  it("leaves written before reasons existed decode as walk-outs", () => {
    const old = decode({ _tag: "ParticipantLeft", spaceId: "s1", at: 1, user: "lee" })
    expect(old).toMatchObject({ _tag: "ParticipantLeft", reason: "left" })
    const oldHost = decode({ _tag: "HostLeft", spaceId: "s1", at: 1, user: "hana", graceEndsAt: 2 })
    expect(oldHost).toMatchObject({ _tag: "HostLeft", reason: "left" })
  })

  it("a dropped line is told from a walk-out, and round-trips", () => {
    const event = decode({ _tag: "ParticipantLeft", ...inS1, user: "lee", reason: "disconnected" })
    expect(event).toMatchObject({ reason: "disconnected" })
    expect(decode(encode(event))).toEqual(event)
    expect(() =>
      decode({ _tag: "ParticipantLeft", spaceId: "s1", at: 1, user: "lee", reason: "bored" })
    ).toThrow()
  })

  it("an operator's end keeps the operator's note; older ends have none", () => {
    const end = decode({ _tag: "SpaceEnded", ...inS1, reason: "operator", by: "ops", note: "spam" })
    expect(end).toMatchObject({ note: "spam" })
    expect(
      decode({ _tag: "SpaceEnded", spaceId: "s1", at: 1, reason: "host", by: "hana" })
    ).not.toHaveProperty("note")
  })
})
