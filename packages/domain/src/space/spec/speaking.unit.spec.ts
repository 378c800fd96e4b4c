import { HashMap } from "effect"
import { describe, expect, it } from "vitest"
import { defaultRoomRules } from "../../rules/RoomRules.js"
import type { SpaceEvent } from "../SpaceEvent.js"
import {
  cohost,
  ended,
  fullRoom,
  host,
  joined,
  listener,
  liveSpace,
  outsider,
  promotedToCoHost,
  promotedToSpeaker,
  removed,
  scheduledSpace,
  space,
  speaker,
  user
} from "../../testing/fixtures.js"
import { given, T0 } from "../../testing/SpaceSpecification.js"

/** The host gone (walked out or disconnected) at T0: five minutes' grace. */
const hostAway = (reason: "left" | "disconnected"): SpaceEvent => ({
  _tag: "HostLeft",
  spaceId: space,
  at: T0,
  user: host,
  graceEndsAt: T0 + 5 * 60_000,
  reason
})

const raised = (who = listener): SpaceEvent => ({ _tag: "HandRaised", spaceId: space, at: T0, user: who })
const invited = (who = listener): SpaceEvent => ({
  _tag: "SpeakerInvited",
  spaceId: space,
  at: T0,
  user: who,
  by: host
})
const coInvited = (who = listener): SpaceEvent => ({
  _tag: "CoHostInvited",
  spaceId: space,
  at: T0,
  user: who,
  by: host
})
/** A stage filled to `maxSpeakers` (the host plus 12 speakers). */
const fullStage = () => [
  ...liveSpace(),
  ...Array.from({ length: defaultRoomRules.maxSpeakers - 1 }, (_, i) =>
    promotedToSpeaker(user(`s${i}`))
  ).flat()
]

describe("joining and leaving", () => {
  it("joining a live Space makes you a listener; joining again changes nothing", () => {
    const state = given(liveSpace())
      .when({ _tag: "JoinSpace", spaceId: space, by: listener })
      .emits([{ _tag: "ListenerJoined", spaceId: space, at: T0, user: listener }])
    expect(HashMap.get(state.participants, listener).pipe((p) => p._tag === "Some" && p.value.role)).toBe(
      "listener"
    )
    given([...liveSpace(), joined(listener)])
      .when({ _tag: "JoinSpace", spaceId: space, by: listener })
      .emits([])
  })

  it("a scheduled Space can't be joined", () => {
    given(scheduledSpace())
      .when({ _tag: "JoinSpace", spaceId: space, by: listener })
      .rejects("WrongSpaceStatus")
  })

  it("the listener cap, when configured, is enforced", () => {
    const rules = { ...defaultRoomRules, maxListeners: 1 }
    given([...liveSpace(), joined(listener)], { rules })
      .when({ _tag: "JoinSpace", spaceId: space, by: outsider })
      .rejects("ListenerLimitReached", { limit: 1 })
  })

  it("any participant leaves; someone not in the room can't", () => {
    given(fullRoom())
      .when({ _tag: "LeaveSpace", spaceId: space, by: speaker })
      .emits([{ _tag: "ParticipantLeft", spaceId: space, at: T0, user: speaker, reason: "left" }])
    given(fullRoom()).when({ _tag: "LeaveSpace", spaceId: space, by: outsider }).rejects("NotInSpace")
  })

  it("the host leaving starts a 5-minute grace period; returning ends it", () => {
    const away = given(fullRoom())
      .when({ _tag: "LeaveSpace", spaceId: space, by: host })
      .emits([
        { _tag: "HostLeft", spaceId: space, at: T0, user: host, graceEndsAt: T0 + 5 * 60_000, reason: "left" }
      ])
    expect(away.status).toBe("live")
    expect(away.hostAway).toEqual({ since: T0, graceEndsAt: T0 + 5 * 60_000 })
    const hostLeft = hostAway("left")
    const back = given([...fullRoom(), hostLeft])
      .when({ _tag: "JoinSpace", spaceId: space, by: host })
      .emits([{ _tag: "HostReturned", spaceId: space, at: T0, user: host }])
    expect(back.hostAway).toBeNull()
  })

  it("the Space ends when the grace period is over (a system command), not before", () => {
    const hostLeft = hostAway("left")
    given([...fullRoom(), hostLeft], { now: T0 + 300_000 })
      .when({ _tag: "EndAbandonedSpace", spaceId: space })
      .emits([{ _tag: "SpaceEnded", spaceId: space, at: T0 + 300_000, reason: "host_absent", by: "system" }])
    given([...fullRoom(), hostLeft], { now: T0 + 299_999 })
      .when({ _tag: "EndAbandonedSpace", spaceId: space })
      .rejects("NotDueYet", { dueAt: T0 + 300_000 })
    given(fullRoom()).when({ _tag: "EndAbandonedSpace", spaceId: space }).emits([])
  })

  it("a participant whose connections are gone is left by the system, with the reason", () => {
    const state = given(fullRoom())
      .when({ _tag: "DisconnectParticipant", spaceId: space, user: speaker })
      .emits([{ _tag: "ParticipantLeft", spaceId: space, at: T0, user: speaker, reason: "disconnected" }])
    expect(HashMap.has(state.participants, speaker)).toBe(false)
    // Already gone (walked out, removed, never there): nothing to do, nothing refused.
    given(fullRoom()).when({ _tag: "DisconnectParticipant", spaceId: space, user: outsider }).emits([])
    given([...fullRoom(), ended])
      .when({ _tag: "DisconnectParticipant", spaceId: space, user: speaker })
      .rejects("SpaceHasEnded")
  })

  it("a disconnected host starts the grace period and keeps the role on return", () => {
    const away = given(fullRoom())
      .when({ _tag: "DisconnectParticipant", spaceId: space, user: host })
      .emits([hostAway("disconnected")])
    expect(away.hostAway).toEqual({ since: T0, graceEndsAt: T0 + 5 * 60_000 })
    const hostLeft = hostAway("disconnected")
    // A late second order while the host is away changes nothing.
    given([...fullRoom(), hostLeft])
      .when({ _tag: "DisconnectParticipant", spaceId: space, user: host })
      .emits([])
    const back = given([...fullRoom(), hostLeft])
      .when({ _tag: "JoinSpace", spaceId: space, by: host })
      .emits([{ _tag: "HostReturned", spaceId: space, at: T0, user: host }])
    expect(back.host).toBe(host)
    expect(back.hostAway).toBeNull()
  })

  it("a co-host can't take over ending while the host is away", () => {
    const hostLeft = hostAway("left")
    given([...fullRoom(), hostLeft])
      .when({ _tag: "EndSpace", spaceId: space, by: cohost })
      .rejects("NotPermitted")
  })
})

describe("requests to speak", () => {
  it("a listener raises a hand when the policy allows; twice is once", () => {
    given(fullRoom()).when({ _tag: "RaiseHand", spaceId: space, by: listener }).emits([raised()])
    given([...fullRoom(), raised()])
      .when({ _tag: "RaiseHand", spaceId: space, by: listener })
      .emits([])
  })

  it("policy 'followed': only people the host follows may request", () => {
    given(fullRoom({ speakPolicy: "followed" }), { hostFollows: [listener] })
      .when({ _tag: "RaiseHand", spaceId: space, by: listener })
      .emits([raised()])
    given(fullRoom({ speakPolicy: "followed" }))
      .when({ _tag: "RaiseHand", spaceId: space, by: listener })
      .rejects("SpeakRequestsNotAllowed", { policy: "followed" })
  })

  it("policy 'invited': nobody may request", () => {
    given(fullRoom({ speakPolicy: "invited" }))
      .when({ _tag: "RaiseHand", spaceId: space, by: listener })
      .rejects("SpeakRequestsNotAllowed", { policy: "invited" })
  })

  it("speakers, outsiders and removed users can't request", () => {
    given(fullRoom()).when({ _tag: "RaiseHand", spaceId: space, by: speaker }).rejects("AlreadySpeaking")
    given(fullRoom()).when({ _tag: "RaiseHand", spaceId: space, by: outsider }).rejects("NotInSpace")
    given(fullRoom()).when({ _tag: "RaiseHand", spaceId: space, by: removed }).rejects("BannedFromSpace")
  })

  it("the listener withdraws their request", () => {
    given([...fullRoom(), raised()])
      .when({ _tag: "LowerHand", spaceId: space, by: listener })
      .emits([{ _tag: "HandLowered", spaceId: space, at: T0, user: listener }])
    given(fullRoom()).when({ _tag: "LowerHand", spaceId: space, by: listener }).rejects("NoPendingRequest")
  })

  it("host or co-host approves: the listener becomes a speaker, muted", () => {
    const state = given([...fullRoom(), raised()])
      .when({ _tag: "ApproveSpeakRequest", spaceId: space, by: cohost, user: listener })
      .emits([{ _tag: "SpeakRequestApproved", spaceId: space, at: T0, user: listener, by: cohost }])
    expect(HashMap.unsafeGet(state.participants, listener)).toMatchObject({ role: "speaker", muted: true })
    expect(state.raisedHands).toEqual([])
    given([...fullRoom(), raised()])
      .when({ _tag: "ApproveSpeakRequest", spaceId: space, by: speaker, user: listener })
      .rejects("NotPermitted", { standing: "speaker" })
    given(fullRoom())
      .when({ _tag: "ApproveSpeakRequest", spaceId: space, by: host, user: listener })
      .rejects("NoPendingRequest")
  })

  it("approval fails at the speaker limit and the request stays pending", () => {
    const history = [...fullStage(), joined(listener), raised()]
    const { state } = given(history)
    expect(state.counts.speakers).toBe(13)
    given(history)
      .when({ _tag: "ApproveSpeakRequest", spaceId: space, by: host, user: listener })
      .rejects("SpeakerLimitReached", { limit: 13 })
    expect(state.raisedHands).toEqual([listener])
  })

  it("host or co-host declines", () => {
    given([...fullRoom(), raised()])
      .when({ _tag: "DeclineSpeakRequest", spaceId: space, by: host, user: listener })
      .emits([{ _tag: "SpeakRequestDeclined", spaceId: space, at: T0, user: listener, by: host }])
    given(fullRoom())
      .when({ _tag: "DeclineSpeakRequest", spaceId: space, by: host, user: listener })
      .rejects("NoPendingRequest")
  })
})

describe("invitations to speak", () => {
  it("host or co-host invites a listener or someone not yet in the room", () => {
    given(fullRoom())
      .when({ _tag: "InviteSpeaker", spaceId: space, by: cohost, user: outsider })
      .emits([{ _tag: "SpeakerInvited", spaceId: space, at: T0, user: outsider, by: cohost }])
    given(fullRoom())
      .when({ _tag: "InviteSpeaker", spaceId: space, by: speaker, user: outsider })
      .rejects("NotPermitted")
    given(fullRoom())
      .when({ _tag: "InviteSpeaker", spaceId: space, by: host, user: removed })
      .rejects("BannedFromSpace")
    given(fullRoom())
      .when({ _tag: "InviteSpeaker", spaceId: space, by: host, user: speaker })
      .rejects("AlreadySpeaking")
    given([...fullRoom(), invited(outsider)])
      .when({ _tag: "InviteSpeaker", spaceId: space, by: host, user: outsider })
      .emits([])
  })

  it("the invitee accepts, joining if needed", () => {
    const state = given([...fullRoom(), invited(outsider)])
      .when({ _tag: "AcceptSpeakerInvite", spaceId: space, by: outsider })
      .emits([
        { _tag: "ListenerJoined", spaceId: space, at: T0, user: outsider },
        { _tag: "SpeakerInviteAccepted", spaceId: space, at: T0, user: outsider }
      ])
    expect(HashMap.unsafeGet(state.participants, outsider)).toMatchObject({ role: "speaker", muted: true })
    given([...fullRoom(), invited()])
      .when({ _tag: "AcceptSpeakerInvite", spaceId: space, by: listener })
      .emits([{ _tag: "SpeakerInviteAccepted", spaceId: space, at: T0, user: listener }])
    given(fullRoom())
      .when({ _tag: "AcceptSpeakerInvite", spaceId: space, by: listener })
      .rejects("NoPendingRequest")
  })

  it("acceptance is subject to the speaker limit", () => {
    given([...fullStage(), invited()])
      .when({ _tag: "AcceptSpeakerInvite", spaceId: space, by: listener })
      .rejects("SpeakerLimitReached", { limit: 13 })
  })

  it("the invitee declines", () => {
    given([...fullRoom(), invited()])
      .when({ _tag: "DeclineSpeakerInvite", spaceId: space, by: listener })
      .emits([{ _tag: "SpeakerInviteDeclined", spaceId: space, at: T0, user: listener }])
    given(fullRoom())
      .when({ _tag: "DeclineSpeakerInvite", spaceId: space, by: listener })
      .rejects("NoPendingRequest")
  })
})

describe("co-hosts", () => {
  it("only the host invites co-hosts", () => {
    given(fullRoom())
      .when({ _tag: "InviteCoHost", spaceId: space, by: host, user: speaker })
      .emits([{ _tag: "CoHostInvited", spaceId: space, at: T0, user: speaker, by: host }])
    given(fullRoom())
      .when({ _tag: "InviteCoHost", spaceId: space, by: cohost, user: speaker })
      .rejects("NotPermitted", { rule: "only the host invites co-hosts" })
    given(fullRoom())
      .when({ _tag: "InviteCoHost", spaceId: space, by: host, user: host })
      .rejects("CannotTargetHost")
    given(fullRoom())
      .when({ _tag: "InviteCoHost", spaceId: space, by: host, user: cohost })
      .rejects("AlreadySpeaking")
    given(fullRoom())
      .when({ _tag: "InviteCoHost", spaceId: space, by: host, user: removed })
      .rejects("BannedFromSpace")
  })

  it("accepting makes a co-host; at most 2", () => {
    const state = given([...fullRoom(), coInvited(speaker)])
      .when({ _tag: "AcceptCoHostInvite", spaceId: space, by: speaker })
      .emits([{ _tag: "CoHostInviteAccepted", spaceId: space, at: T0, user: speaker }])
    expect(state.counts.cohosts).toBe(2)
    given([...fullRoom(), ...promotedToCoHost(user("c2")), coInvited(speaker)])
      .when({ _tag: "AcceptCoHostInvite", spaceId: space, by: speaker })
      .rejects("CoHostLimitReached", { limit: 2 })
    given([...fullRoom(), coInvited()])
      .when({ _tag: "DeclineCoHostInvite", spaceId: space, by: listener })
      .emits([{ _tag: "CoHostInviteDeclined", spaceId: space, at: T0, user: listener }])
    given(fullRoom())
      .when({ _tag: "AcceptCoHostInvite", spaceId: space, by: listener })
      .rejects("NoPendingRequest")
    given(fullRoom())
      .when({ _tag: "DeclineCoHostInvite", spaceId: space, by: listener })
      .rejects("NoPendingRequest")
  })

  it("a listener accepting a co-host invitation needs a free speaker seat", () => {
    given([...fullStage(), joined(listener), coInvited()])
      .when({ _tag: "AcceptCoHostInvite", spaceId: space, by: listener })
      .rejects("SpeakerLimitReached")
  })

  it("the host removes a co-host: back to speaker", () => {
    const state = given(fullRoom())
      .when({ _tag: "RemoveCoHost", spaceId: space, by: host, user: cohost })
      .emits([{ _tag: "CoHostRemoved", spaceId: space, at: T0, user: cohost, by: host }])
    expect(HashMap.unsafeGet(state.participants, cohost).role).toBe("speaker")
    given(fullRoom())
      .when({ _tag: "RemoveCoHost", spaceId: space, by: cohost, user: cohost })
      .rejects("NotPermitted")
    given(fullRoom())
      .when({ _tag: "RemoveCoHost", spaceId: space, by: host, user: speaker })
      .rejects("NotACoHost")
  })
})

describe("stepping down", () => {
  it("a speaker or co-host returns to listener; the host and listeners can't", () => {
    const state = given(fullRoom())
      .when({ _tag: "StepDown", spaceId: space, by: cohost })
      .emits([{ _tag: "SteppedDown", spaceId: space, at: T0, user: cohost }])
    expect(state.counts).toMatchObject({ cohosts: 0, speakers: 2 })
    given(fullRoom()).when({ _tag: "StepDown", spaceId: space, by: speaker }).accepts()
    given(fullRoom())
      .when({ _tag: "StepDown", spaceId: space, by: host })
      .rejects("NotPermitted", { standing: "host" })
    given(fullRoom()).when({ _tag: "StepDown", spaceId: space, by: listener }).rejects("NotASpeaker")
  })
})
