import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { UserId } from "../../ids.js"
import { defaultRoomRules } from "../../rules/RoomRules.js"
import {
  cohost,
  created,
  ended,
  fullRoom,
  host,
  liveSpace,
  outsider,
  scheduledSpace,
  space,
  user
} from "../../testing/fixtures.js"
import { given, T0 } from "../../testing/SpaceSpecification.js"

const MIN = 60_000
const create = (fields: Partial<{ title: string; topics: string[]; scheduledFor: number }> = {}) => ({
  _tag: "CreateSpace" as const,
  spaceId: space,
  by: host,
  title: "Morning show",
  topics: ["music"],
  speakPolicy: "everyone" as const,
  recording: true,
  captions: false,
  ...fields
})

describe("creating a Space", () => {
  it("started now: created and live, with the host in the room, muted", () => {
    const state = given([])
      .when(create())
      .emits([
        {
          _tag: "SpaceCreated",
          spaceId: space,
          at: T0,
          host,
          title: "Morning show",
          topics: ["music"],
          speakPolicy: "everyone",
          recording: true,
          captions: false,
          scheduledFor: null
        },
        { _tag: "SpaceStarted", spaceId: space, at: T0, host }
      ])
    expect(state.status).toBe("live")
    expect(state.counts).toEqual({ cohosts: 0, speakers: 1, listeners: 0 })
  })

  it("scheduled between now+1 min and now+30 days", () => {
    const state = given([])
      .when(create({ scheduledFor: T0 + MIN }))
      .emits([{ ...created({ scheduledFor: T0 + MIN }), at: T0, recording: true, captions: false }])
    expect(state.status).toBe("scheduled")
    expect(
      given([])
        .when(create({ scheduledFor: T0 + 30 * 24 * 60 * MIN }))
        .accepts()
    ).toHaveLength(1)
    given([])
      .when(create({ scheduledFor: T0 + MIN - 1 }))
      .rejects("ScheduleOutOfRange", { earliest: T0 + MIN })
    given([])
      .when(create({ scheduledFor: T0 + 30 * 24 * 60 * MIN + 1 }))
      .rejects("ScheduleOutOfRange", { latest: T0 + 30 * 24 * 60 * MIN })
  })

  it("title: trimmed, 1-70 characters, no control characters", () => {
    const [createdEvent] = given([])
      .when(create({ title: "  Jazz night  " }))
      .accepts()
    expect(createdEvent).toMatchObject({ _tag: "SpaceCreated", title: "Jazz night" })
    given([])
      .when(create({ title: "   " }))
      .rejects("InvalidTitle", { maxLength: 70 })
    given([])
      .when(create({ title: "x".repeat(71) }))
      .rejects("InvalidTitle", { maxLength: 70 })
    expect(
      given([])
        .when(create({ title: "x".repeat(70) }))
        .accepts()
    ).toHaveLength(2)
    given([])
      .when(create({ title: "bell\u0007" }))
      .rejects("InvalidTitle")
  })

  it("topics: 0-3 from the catalogue, case-insensitive", () => {
    const [withTopics] = given([])
      .when(create({ topics: ["Music", "TECHNOLOGY", "music"] }))
      .accepts()
    expect(withTopics).toMatchObject({ topics: ["music", "technology"] })
    expect(
      given([])
        .when(create({ topics: [] }))
        .accepts()
    ).toHaveLength(2)
    given([])
      .when(create({ topics: ["music", "art", "books", "food"] }))
      .rejects("InvalidTopics", { maxTopics: 3 })
    given([])
      .when(create({ topics: ["underwater-basket-weaving"] }))
      .rejects("InvalidTopics")
  })

  it("an existing Space can't be created again", () => {
    given(liveSpace()).when(create()).rejects("SpaceAlreadyExists", { spaceId: space })
  })
})

describe("scheduled Spaces", () => {
  it("the host reschedules within the window; nobody else can", () => {
    given(scheduledSpace())
      .when({ _tag: "RescheduleSpace", spaceId: space, by: host, scheduledFor: T0 + 10 * MIN })
      .emits([{ _tag: "SpaceRescheduled", spaceId: space, at: T0, scheduledFor: T0 + 10 * MIN }])
    given(scheduledSpace())
      .when({ _tag: "RescheduleSpace", spaceId: space, by: outsider, scheduledFor: T0 + 10 * MIN })
      .rejects("NotPermitted", { standing: "outsider" })
    given(scheduledSpace())
      .when({ _tag: "RescheduleSpace", spaceId: space, by: host, scheduledFor: T0 })
      .rejects("ScheduleOutOfRange")
    given(liveSpace())
      .when({ _tag: "RescheduleSpace", spaceId: space, by: host, scheduledFor: T0 + 10 * MIN })
      .rejects("WrongSpaceStatus", { status: "live", required: "scheduled" })
  })

  it("the host cancels; cancelled is ended", () => {
    const state = given(scheduledSpace())
      .when({ _tag: "CancelSpace", spaceId: space, by: host })
      .emits([{ _tag: "SpaceCancelled", spaceId: space, at: T0 }])
    expect(state.status).toBe("ended")
    expect(state.endReason).toBe("cancelled")
    given(scheduledSpace())
      .when({ _tag: "CancelSpace", spaceId: space, by: outsider })
      .rejects("NotPermitted")
  })

  it("the host starts it at any time, early included", () => {
    const state = given(scheduledSpace(T0 + 20 * 24 * 60 * MIN))
      .when({ _tag: "StartSpace", spaceId: space, by: host })
      .emits([{ _tag: "SpaceStarted", spaceId: space, at: T0, host }])
    expect(state.status).toBe("live")
    given(scheduledSpace()).when({ _tag: "StartSpace", spaceId: space, by: outsider }).rejects("NotPermitted")
    given(liveSpace()).when({ _tag: "StartSpace", spaceId: space, by: host }).rejects("WrongSpaceStatus")
  })

  it("expires 1 hour after its time if not started (a system command)", () => {
    const due = T0 - 60 * MIN
    given(scheduledSpace(due))
      .when({ _tag: "ExpireSpace", spaceId: space })
      .emits([{ _tag: "SpaceExpired", spaceId: space, at: T0 }])
    given(scheduledSpace(due + 1))
      .when({ _tag: "ExpireSpace", spaceId: space })
      .rejects("NotDueYet", { dueAt: T0 + 1 })
    given(liveSpace()).when({ _tag: "ExpireSpace", spaceId: space }).rejects("WrongSpaceStatus")
  })

  it("can't be started, or acted on at all, once past its expiry deadline (even before the scheduler expires it)", () => {
    const scheduledFor = T0 - 60 * MIN
    const expired = { spaceId: space, expiredAt: T0, expiryMs: 60 * MIN }
    given(scheduledSpace(scheduledFor), { now: T0 - 1 })
      .when({ _tag: "StartSpace", spaceId: space, by: host })
      .emits([{ _tag: "SpaceStarted", spaceId: space, at: T0 - 1, host }])
    given(scheduledSpace(scheduledFor))
      .when({ _tag: "StartSpace", spaceId: space, by: host })
      .rejects("ScheduledSpaceExpired", expired)
    for (const command of [
      { _tag: "RescheduleSpace", spaceId: space, by: host, scheduledFor: T0 + 10 * MIN },
      { _tag: "CancelSpace", spaceId: space, by: host },
      { _tag: "EditSpace", spaceId: space, by: host, title: "Later" },
      { _tag: "SetReminder", spaceId: space, by: outsider },
      { _tag: "JoinSpace", spaceId: space, by: outsider }
    ] as const)
      given(scheduledSpace(scheduledFor), { now: T0 + 5 * MIN })
        .when(command)
        .rejects("ScheduledSpaceExpired", expired)
    // The expiry itself, creation and an operator's override are unaffected.
    given(scheduledSpace(scheduledFor))
      .when({ _tag: "ExpireSpace", spaceId: space })
      .emits([{ _tag: "SpaceExpired", spaceId: space, at: T0 }])
    given(scheduledSpace(scheduledFor)).when(create()).rejects("SpaceAlreadyExists")
    given(scheduledSpace(scheduledFor))
      .when({ _tag: "EndSpaceByOperator", spaceId: space, operator: "ops", reason: "cleanup" })
      .emits([{ _tag: "SpaceEnded", spaceId: space, at: T0, reason: "operator", by: "ops", note: "cleanup" }])
  })

  it("uses the configured expiry, and its error names the deadline and the limit", () => {
    const rules = { ...defaultRoomRules, scheduledExpiryMs: 5 * MIN }
    const error = given(scheduledSpace(T0 - 5 * MIN), { rules })
      .when({ _tag: "StartSpace", spaceId: space, by: host })
      .rejects("ScheduledSpaceExpired", { expiredAt: T0, expiryMs: 5 * MIN })
    expect(error.message).toContain("within 5 minutes")
    given(scheduledSpace(T0 - 5 * MIN + 1), { rules })
      .when({ _tag: "StartSpace", spaceId: space, by: host })
      .accepts()
  })

  it("at any instant, exactly one of the host's start and the clock's expiry is accepted", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 * 60 * MIN }),
        fc.integer({ min: 1, max: 2 * 60 * MIN }),
        (lateBy, scheduledExpiryMs) => {
          const ctx = { now: T0 + lateBy, rules: { ...defaultRoomRules, scheduledExpiryMs } }
          const start = given(scheduledSpace(T0), ctx).when({ _tag: "StartSpace", spaceId: space, by: host })
          const expire = given(scheduledSpace(T0), ctx).when({ _tag: "ExpireSpace", spaceId: space })
          expect(Either.isRight(start.outcome)).toBe(Either.isLeft(expire.outcome))
          expect(Either.isRight(start.outcome)).toBe(lateBy < scheduledExpiryMs)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("anyone not removed sets and removes a reminder", () => {
    const state = given(scheduledSpace())
      .when({ _tag: "SetReminder", spaceId: space, by: outsider })
      .emits([{ _tag: "ReminderSet", spaceId: space, at: T0, user: outsider }])
    given([...scheduledSpace(), { _tag: "ReminderSet", spaceId: space, at: T0, user: outsider }])
      .when({ _tag: "SetReminder", spaceId: space, by: outsider })
      .emits([])
    expect([...state.reminders]).toEqual([outsider])
    given([...scheduledSpace(), { _tag: "ReminderSet", spaceId: space, at: T0, user: outsider }])
      .when({ _tag: "RemoveReminder", spaceId: space, by: outsider })
      .emits([{ _tag: "ReminderRemoved", spaceId: space, at: T0, user: outsider }])
    given(scheduledSpace()).when({ _tag: "RemoveReminder", spaceId: space, by: outsider }).emits([])
    given(liveSpace()).when({ _tag: "SetReminder", spaceId: space, by: outsider }).rejects("WrongSpaceStatus")
  })
})

describe("settings", () => {
  it("host and co-hosts edit title and topics while scheduled or live", () => {
    given(fullRoom())
      .when({ _tag: "EditSpace", spaceId: space, by: cohost, title: "Evening show", topics: ["art"] })
      .emits([
        { _tag: "SpaceEdited", spaceId: space, at: T0, by: cohost, title: "Evening show", topics: ["art"] }
      ])
    given(scheduledSpace())
      .when({ _tag: "EditSpace", spaceId: space, by: host, title: "Later show" })
      .emits([
        { _tag: "SpaceEdited", spaceId: space, at: T0, by: host, title: "Later show", topics: ["music"] }
      ])
    given(fullRoom()).when({ _tag: "EditSpace", spaceId: space, by: host, title: "Morning show" }).emits([])
    given(fullRoom())
      .when({ _tag: "EditSpace", spaceId: space, by: user("sam"), title: "Mine" })
      .rejects("NotPermitted", {
        standing: "speaker"
      })
    given(fullRoom()).when({ _tag: "EditSpace", spaceId: space, by: host, title: "" }).rejects("InvalidTitle")
  })

  it("host and co-hosts change the speak policy", () => {
    given(fullRoom())
      .when({ _tag: "ChangeSpeakPolicy", spaceId: space, by: cohost, speakPolicy: "invited" })
      .emits([{ _tag: "SpeakPolicyChanged", spaceId: space, at: T0, by: cohost, speakPolicy: "invited" }])
    given(fullRoom())
      .when({ _tag: "ChangeSpeakPolicy", spaceId: space, by: host, speakPolicy: "everyone" })
      .emits([])
  })

  it("only the host changes recording; host and co-hosts change captions", () => {
    const recordingOnBy = (by: UserId) =>
      given(fullRoom()).when({ _tag: "SetRecording", spaceId: space, by, recording: true })
    recordingOnBy(host).emits([
      { _tag: "RecordingChanged", spaceId: space, at: T0, by: host, recording: true }
    ])
    recordingOnBy(cohost).rejects("NotPermitted", {
      standing: "cohost",
      rule: "only the host can change recording"
    })
    const captionsByCohost = (captions: boolean) =>
      given(fullRoom()).when({ _tag: "SetCaptions", spaceId: space, by: cohost, captions })
    captionsByCohost(false).emits([
      { _tag: "CaptionsChanged", spaceId: space, at: T0, by: cohost, captions: false }
    ])
    captionsByCohost(true).emits([])
  })
})

describe("ending", () => {
  it("only the host ends a live Space", () => {
    const state = given(fullRoom())
      .when({ _tag: "EndSpace", spaceId: space, by: host })
      .emits([{ _tag: "SpaceEnded", spaceId: space, at: T0, reason: "host", by: host }])
    expect(state.status).toBe("ended")
    expect(state.counts).toEqual({ cohosts: 0, speakers: 0, listeners: 0 })
    given(fullRoom())
      .when({ _tag: "EndSpace", spaceId: space, by: cohost })
      .rejects("NotPermitted", { rule: "only the host can end a Space" })
  })

  it("an operator ends a live or scheduled Space", () => {
    given(fullRoom())
      .when({ _tag: "EndSpaceByOperator", spaceId: space, operator: "ops", reason: "abuse" })
      .emits([{ _tag: "SpaceEnded", spaceId: space, at: T0, reason: "operator", by: "ops", note: "abuse" }])
    // A blank reason is no note.
    given(fullRoom())
      .when({ _tag: "EndSpaceByOperator", spaceId: space, operator: "ops", reason: "  " })
      .emits([{ _tag: "SpaceEnded", spaceId: space, at: T0, reason: "operator", by: "ops" }])
  })

  it("ended is terminal: every later command is rejected", () => {
    for (const command of [
      { _tag: "JoinSpace", spaceId: space, by: outsider },
      { _tag: "EndSpace", spaceId: space, by: host },
      { _tag: "EditSpace", spaceId: space, by: host, title: "x" },
      { _tag: "PublishPost", spaceId: space, by: host, postId: "p", text: "hi" }
    ] as const) {
      given([...fullRoom(), ended])
        .when(command as never)
        .rejects("SpaceHasEnded", { reason: "host" })
    }
  })

  it("a Space that does not exist is not found", () => {
    given([])
      .when({ _tag: "JoinSpace", spaceId: space, by: outsider })
      .rejects("SpaceNotFound", { spaceId: space })
  })

  it("uses the configured limits, not literals", () => {
    const rules = { ...defaultRoomRules, maxTitleLength: 5 }
    given([], { rules })
      .when(create({ title: "123456" }))
      .rejects("InvalidTitle", { maxLength: 5 })
  })
})
