import { describe, expect, it } from "vitest"
import { UserId } from "./ids.js"
import { specification } from "./Specification.js"
import { type UserContext, UserDecider } from "./user/User.js"

const hana = UserId.make("hana")
const ivo = UserId.make("ivo")
const at = 1_000

// The same given/when/emits as the Space specifications, over another decider.
const users = specification(UserDecider, {
  context: (ctx: UserContext | undefined) => ctx ?? { now: at, isLive: () => false },
  assertEqual: (actual, expected) => expect(actual).toEqual(expected)
})

describe("specifications over any decider", () => {
  it("folds the history, then checks what a command emits", () => {
    const followed = { _tag: "UserFollowed", user: hana, followee: ivo, at } as const
    users.given([]).when({ _tag: "Follow", by: hana, user: ivo }).emits([followed])
    users.given([followed]).when({ _tag: "Follow", by: hana, user: ivo }).emits([])
  })

  it("checks a rejection by its tag and fields, and fails when the outcome is another", () => {
    users.given([]).when({ _tag: "Follow", by: hana, user: hana }).rejects("CannotFollowSelf", { user: hana })
    expect(() =>
      users.given([]).when({ _tag: "Follow", by: hana, user: ivo }).rejects("CannotFollowSelf")
    ).toThrow(/expected CannotFollowSelf, got events UserFollowed/)
    expect(() => users.given([]).when({ _tag: "Follow", by: hana, user: hana }).emits([])).toThrow(
      /expected events, got CannotFollowSelf/
    )
  })
})
