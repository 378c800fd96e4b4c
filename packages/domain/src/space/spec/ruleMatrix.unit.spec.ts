import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { UserId } from "../../ids.js"
import { defaultRoomRules } from "../../rules/RoomRules.js"
import type { SpaceCommand } from "../SpaceCommand.js"
import type { SpaceEvent } from "../SpaceEvent.js"
import {
  cohost,
  ended,
  fullRoom,
  host,
  joined,
  listener,
  outsider,
  post,
  promotedToSpeaker,
  removed,
  scheduledSpace,
  space,
  speaker,
  user
} from "../../testing/fixtures.js"
import { decideNow, given, T0 } from "../../testing/SpaceSpecification.js"

/**
 * Every command × every standing × every status → allowed ("ok") or the error SPEC §1 implies.
 * The table is written from the SPEC, independently of the decider's code.
 */
const standings = { host, cohost, speaker, listener, outsider, removed } as const
type Standing = keyof typeof standings
type Expected = "ok" | string
type Row = Readonly<Record<Standing, Expected>>

const hand = user("lia") // a listener with a raised hand
const sue = user("sue") // a second speaker, unmuted
const nina = user("nina") // someone not in the room
const at = T0 - 1

const liveHistory: ReadonlyArray<SpaceEvent> = [
  ...fullRoom(),
  joined(hand),
  { _tag: "HandRaised", spaceId: space, at, user: hand },
  { _tag: "HandRaised", spaceId: space, at, user: listener },
  ...promotedToSpeaker(sue),
  { _tag: "SpeakerUnmuted", spaceId: space, at, user: sue },
  { _tag: "SpeakerInvited", spaceId: space, at, user: listener, by: host },
  { _tag: "SpeakerInvited", spaceId: space, at, user: outsider, by: host },
  { _tag: "CoHostInvited", spaceId: space, at, user: listener, by: host },
  { _tag: "CoHostInvited", spaceId: space, at, user: outsider, by: host },
  { _tag: "PostPublished", spaceId: space, at, postId: post("p1"), author: listener, text: "hi" }
]
const scheduledFor = T0 + 3_600_000
const scheduledHistory: ReadonlyArray<SpaceEvent> = [
  ...scheduledSpace(scheduledFor),
  { _tag: "PostPublished", spaceId: space, at, postId: post("p1"), author: outsider, text: "soon" }
]

const all = (expected: Expected): Row => ({
  host: expected,
  cohost: expected,
  speaker: expected,
  listener: expected,
  outsider: expected,
  removed: expected
})
const moderators = (others: Expected): Row => ({ ...all(others), host: "ok", cohost: "ok" })
const hostOnly = (others: Expected): Row => ({ ...all(others), host: "ok" })
const invitee = (accepting: boolean): Row => ({
  ...all("NoPendingRequest"),
  listener: "ok",
  outsider: "ok",
  removed: accepting ? "BannedFromSpace" : "NoPendingRequest"
})

interface Case {
  readonly build: (by: UserId) => SpaceCommand
  /** Expected while live; scheduled and ended are derived below unless given. */
  readonly live: Row
  /** Expected while scheduled (host and outsider are the only standings a scheduled Space has). */
  readonly scheduled: Readonly<Record<"host" | "outsider", Expected>>
}

const liveOnly = (build: Case["build"], live: Row): Case => ({
  build,
  live,
  scheduled: { host: "WrongSpaceStatus", outsider: "WrongSpaceStatus" }
})

const cases: Record<SpaceCommand["_tag"], Case | undefined> = {
  CreateSpace: undefined, // creation has no standing: covered by the lifecycle specs
  ExpireSpace: undefined, // system commands: covered by the lifecycle specs
  EndAbandonedSpace: undefined,
  DisconnectParticipant: undefined,
  EndSpaceByOperator: undefined,
  AppendCaption: undefined, // a service, not a user: covered by the captions spec
  RescheduleSpace: {
    build: (by) => ({ _tag: "RescheduleSpace", spaceId: space, by, scheduledFor: T0 + 600_000 }),
    live: all("WrongSpaceStatus"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  CancelSpace: {
    build: (by) => ({ _tag: "CancelSpace", spaceId: space, by }),
    live: all("WrongSpaceStatus"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  StartSpace: {
    build: (by) => ({ _tag: "StartSpace", spaceId: space, by }),
    live: all("WrongSpaceStatus"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  SetReminder: {
    build: (by) => ({ _tag: "SetReminder", spaceId: space, by }),
    live: all("WrongSpaceStatus"),
    scheduled: { host: "ok", outsider: "ok" }
  },
  RemoveReminder: {
    build: (by) => ({ _tag: "RemoveReminder", spaceId: space, by }),
    live: all("WrongSpaceStatus"),
    scheduled: { host: "ok", outsider: "ok" }
  },
  EditSpace: {
    build: (by) => ({ _tag: "EditSpace", spaceId: space, by, title: "New title" }),
    live: moderators("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  ChangeSpeakPolicy: {
    build: (by) => ({ _tag: "ChangeSpeakPolicy", spaceId: space, by, speakPolicy: "invited" }),
    live: moderators("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  SetCaptions: {
    build: (by) => ({ _tag: "SetCaptions", spaceId: space, by, captions: false }),
    live: moderators("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  SetRecording: {
    build: (by) => ({ _tag: "SetRecording", spaceId: space, by, recording: true }),
    live: hostOnly("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  PublishPost: {
    build: (by) => ({ _tag: "PublishPost", spaceId: space, by, postId: post("p2"), text: "hello" }),
    live: { ...all("ok"), removed: "BannedFromSpace" },
    scheduled: { host: "ok", outsider: "ok" }
  },
  PinPost: {
    build: (by) => ({ _tag: "PinPost", spaceId: space, by, postId: post("p1") }),
    live: moderators("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  UnpinPost: {
    build: (by) => ({ _tag: "UnpinPost", spaceId: space, by }),
    live: moderators("NotPermitted"),
    scheduled: { host: "ok", outsider: "NotPermitted" }
  },
  EndSpace: liveOnly((by) => ({ _tag: "EndSpace", spaceId: space, by }), hostOnly("NotPermitted")),
  JoinSpace: liveOnly((by) => ({ _tag: "JoinSpace", spaceId: space, by }), {
    ...all("ok"),
    removed: "BannedFromSpace"
  }),
  LeaveSpace: liveOnly((by) => ({ _tag: "LeaveSpace", spaceId: space, by }), {
    ...all("ok"),
    outsider: "NotInSpace",
    removed: "NotInSpace"
  }),
  RaiseHand: liveOnly((by) => ({ _tag: "RaiseHand", spaceId: space, by }), {
    host: "AlreadySpeaking",
    cohost: "AlreadySpeaking",
    speaker: "AlreadySpeaking",
    listener: "ok",
    outsider: "NotInSpace",
    removed: "BannedFromSpace"
  }),
  LowerHand: liveOnly((by) => ({ _tag: "LowerHand", spaceId: space, by }), {
    ...all("NoPendingRequest"),
    listener: "ok"
  }),
  ApproveSpeakRequest: liveOnly(
    (by) => ({ _tag: "ApproveSpeakRequest", spaceId: space, by, user: hand }),
    moderators("NotPermitted")
  ),
  DeclineSpeakRequest: liveOnly(
    (by) => ({ _tag: "DeclineSpeakRequest", spaceId: space, by, user: hand }),
    moderators("NotPermitted")
  ),
  InviteSpeaker: liveOnly(
    (by) => ({ _tag: "InviteSpeaker", spaceId: space, by, user: nina }),
    moderators("NotPermitted")
  ),
  AcceptSpeakerInvite: liveOnly((by) => ({ _tag: "AcceptSpeakerInvite", spaceId: space, by }), invitee(true)),
  DeclineSpeakerInvite: liveOnly(
    (by) => ({ _tag: "DeclineSpeakerInvite", spaceId: space, by }),
    invitee(false)
  ),
  InviteCoHost: liveOnly(
    (by) => ({ _tag: "InviteCoHost", spaceId: space, by, user: speaker }),
    hostOnly("NotPermitted")
  ),
  // carl is the one co-host, so one more fits under the limit of two.
  AcceptCoHostInvite: liveOnly((by) => ({ _tag: "AcceptCoHostInvite", spaceId: space, by }), invitee(true)),
  DeclineCoHostInvite: liveOnly(
    (by) => ({ _tag: "DeclineCoHostInvite", spaceId: space, by }),
    invitee(false)
  ),
  RemoveCoHost: liveOnly(
    (by) => ({ _tag: "RemoveCoHost", spaceId: space, by, user: cohost }),
    hostOnly("NotPermitted")
  ),
  StepDown: liveOnly((by) => ({ _tag: "StepDown", spaceId: space, by }), {
    host: "NotPermitted",
    cohost: "ok",
    speaker: "ok",
    listener: "NotASpeaker",
    outsider: "NotInSpace",
    removed: "NotInSpace"
  }),
  MuteSpeaker: liveOnly(
    (by) => ({ _tag: "MuteSpeaker", spaceId: space, by, user: sue }),
    moderators("NotPermitted")
  ),
  UnmuteSpeaker: liveOnly(
    (by) => ({ _tag: "UnmuteSpeaker", spaceId: space, by, user: sue }),
    all("OnlySpeakerCanUnmute")
  ),
  MuteAll: liveOnly((by) => ({ _tag: "MuteAll", spaceId: space, by }), moderators("NotPermitted")),
  RemoveParticipant: liveOnly(
    (by) => ({ _tag: "RemoveParticipant", spaceId: space, by, user: hand }),
    moderators("NotPermitted")
  )
}

const outcomeOf = (history: ReadonlyArray<SpaceEvent>, command: SpaceCommand, now = T0): Expected => {
  const outcome = decideNow(command, given(history).state, { now })
  return Either.isRight(outcome) ? "ok" : outcome.left._tag
}

describe("rule matrix: command × standing × status", () => {
  const rows = Object.entries(cases).flatMap(([tag, c]) => (c === undefined ? [] : [[tag, c] as const]))

  it.each(rows)("%s while live", (_, c) => {
    const actual = Object.fromEntries(
      Object.entries(standings).map(([standing, id]) => [standing, outcomeOf(liveHistory, c.build(id))])
    )
    expect(actual).toEqual(c.live)
  })

  it.each(rows)("%s while scheduled", (_, c) => {
    const actual = {
      host: outcomeOf(scheduledHistory, c.build(host)),
      outsider: outcomeOf(scheduledHistory, c.build(outsider))
    }
    expect(actual).toEqual(c.scheduled)
  })

  // Past its deadline a scheduled Space is expired, recorded or not: nobody can act on it.
  it.each(rows)("%s while scheduled, past the expiry deadline", (_, c) => {
    const late = scheduledFor + defaultRoomRules.scheduledExpiryMs
    const actual = {
      host: outcomeOf(scheduledHistory, c.build(host), late),
      outsider: outcomeOf(scheduledHistory, c.build(outsider), late)
    }
    expect(actual).toEqual({ host: "ScheduledSpaceExpired", outsider: "ScheduledSpaceExpired" })
  })

  it.each(rows)("%s after the end", (_, c) => {
    const actual = Object.fromEntries(
      Object.entries(standings).map(([standing, id]) => [
        standing,
        outcomeOf([...liveHistory, ended], c.build(id))
      ])
    )
    expect(actual).toEqual(all("SpaceHasEnded"))
  })

  it("covers every user command", () => {
    expect(rows.length).toBe(Object.keys(cases).length - 6)
  })
})
