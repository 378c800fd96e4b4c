import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { UserId } from "../ids.js"
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserState } from "./User.js"

/** The user stream's notification commands: read marks move forward only; push subscriptions. */
const ctx = { now: 1_000, isLive: () => false }
const pia = UserId.make("pia")
const decide = (command: UserCommand, state: UserState = initialUserState) =>
  Effect.runSync(decideUser(command, state, ctx))
const after = (...commands: ReadonlyArray<UserCommand>) =>
  commands.reduce((state, command) => decide(command, state).reduce(evolveUser, state), initialUserState)

describe("notification commands of the user stream", () => {
  it("a read mark moves forward only: an older or equal one records nothing", () => {
    expect(decide({ _tag: "MarkNotificationsRead", by: pia, upTo: 5 })).toEqual([
      { _tag: "NotificationsRead", user: pia, upTo: 5, at: 1_000 }
    ])
    const marked = after({ _tag: "MarkNotificationsRead", by: pia, upTo: 5 })
    expect(marked.notificationsReadUpTo).toBe(5)
    expect(decide({ _tag: "MarkNotificationsRead", by: pia, upTo: 5 }, marked)).toEqual([])
    expect(decide({ _tag: "MarkNotificationsRead", by: pia, upTo: 3 }, marked)).toEqual([])
    expect(decide({ _tag: "MarkNotificationsRead", by: pia, upTo: 9 }, marked)).toHaveLength(1)
  })

  it("subscribing records the keys (again on re-subscribe); unsubscribing an unknown endpoint records nothing", () => {
    const subscribe: UserCommand = {
      _tag: "SubscribePush",
      by: pia,
      endpoint: "https://push.example/a",
      p256dh: "B".repeat(87),
      auth: "A".repeat(22)
    }
    expect(decide(subscribe)).toEqual([
      {
        _tag: "PushSubscribed",
        user: pia,
        endpoint: "https://push.example/a",
        p256dh: "B".repeat(87),
        auth: "A".repeat(22),
        at: 1_000
      }
    ])
    const subscribed = after(subscribe)
    expect(decide(subscribe, subscribed)).toHaveLength(1)
    expect(
      decide({ _tag: "UnsubscribePush", by: pia, endpoint: "https://push.example/b" }, subscribed)
    ).toEqual([])
    const gone = after(subscribe, { _tag: "UnsubscribePush", by: pia, endpoint: "https://push.example/a" })
    expect([...gone.pushEndpoints]).toEqual([])
    expect(decide({ _tag: "UnsubscribePush", by: pia, endpoint: "https://push.example/a" }, gone)).toEqual([])
  })
})
