import { HashMap } from "effect"
import { describe, expect, it } from "vitest"
import { ServiceId } from "../../ids.js"
import type { SpaceEvent } from "../SpaceEvent.js"
import {
  cohost,
  fullRoom,
  host,
  listener,
  outsider,
  post,
  promotedToCoHost,
  removed,
  scheduledSpace,
  space,
  speaker,
  user
} from "../../testing/fixtures.js"
import { given, T0 } from "../../testing/SpaceSpecification.js"

const unmuted = (who: typeof speaker): SpaceEvent => ({
  _tag: "SpeakerUnmuted",
  spaceId: space,
  at: T0,
  user: who
})
const published = (id = "p1", author = listener): SpaceEvent => ({
  _tag: "PostPublished",
  spaceId: space,
  at: T0,
  postId: post(id),
  author,
  text: "listening!"
})

describe("muting", () => {
  it("a speaker mutes and unmutes themselves", () => {
    given([...fullRoom(), unmuted(speaker)])
      .when({ _tag: "MuteSpeaker", spaceId: space, by: speaker, user: speaker })
      .emits([{ _tag: "SpeakerMuted", spaceId: space, at: T0, user: speaker, by: speaker }])
    given(fullRoom())
      .when({ _tag: "UnmuteSpeaker", spaceId: space, by: speaker, user: speaker })
      .emits([unmuted(speaker)])
    given([...fullRoom(), unmuted(host)])
      .when({ _tag: "MuteSpeaker", spaceId: space, by: host, user: host })
      .accepts()
  })

  it("host and co-hosts mute any speaker but the host", () => {
    given([...fullRoom(), unmuted(speaker)])
      .when({ _tag: "MuteSpeaker", spaceId: space, by: cohost, user: speaker })
      .emits([{ _tag: "SpeakerMuted", spaceId: space, at: T0, user: speaker, by: cohost }])
    given([...fullRoom(), unmuted(host)])
      .when({ _tag: "MuteSpeaker", spaceId: space, by: cohost, user: host })
      .rejects("CannotTargetHost")
    given([...fullRoom(), unmuted(cohost)])
      .when({ _tag: "MuteSpeaker", spaceId: space, by: speaker, user: cohost })
      .rejects("NotPermitted", { standing: "speaker" })
    given(fullRoom())
      .when({ _tag: "MuteSpeaker", spaceId: space, by: host, user: listener })
      .rejects("NotASpeaker")
    given(fullRoom()).when({ _tag: "MuteSpeaker", spaceId: space, by: host, user: speaker }).emits([])
  })

  it("only the speaker can unmute themselves", () => {
    given(fullRoom())
      .when({ _tag: "UnmuteSpeaker", spaceId: space, by: host, user: speaker })
      .rejects("OnlySpeakerCanUnmute", { user: speaker })
  })

  it("mute all mutes every speaker and co-host, not the host", () => {
    const state = given([...fullRoom(), unmuted(host), unmuted(speaker), unmuted(cohost)])
      .when({ _tag: "MuteAll", spaceId: space, by: cohost })
      .emits([{ _tag: "AllSpeakersMuted", spaceId: space, at: T0, by: cohost }])
    expect(HashMap.unsafeGet(state.participants, speaker).muted).toBe(true)
    expect(HashMap.unsafeGet(state.participants, cohost).muted).toBe(true)
    expect(HashMap.unsafeGet(state.participants, host).muted).toBe(false)
    given(fullRoom()).when({ _tag: "MuteAll", spaceId: space, by: speaker }).rejects("NotPermitted")
  })
})

describe("removing", () => {
  it("host and co-hosts remove a participant, who is banned from the Space", () => {
    const state = given(fullRoom())
      .when({ _tag: "RemoveParticipant", spaceId: space, by: cohost, user: speaker })
      .emits([{ _tag: "ParticipantRemoved", spaceId: space, at: T0, user: speaker, by: cohost }])
    expect(HashMap.has(state.participants, speaker)).toBe(false)
    given(fullRoom()).when({ _tag: "JoinSpace", spaceId: space, by: removed }).rejects("BannedFromSpace")
  })

  it("nobody removes the host; co-hosts can't remove co-hosts; the host can", () => {
    given(fullRoom())
      .when({ _tag: "RemoveParticipant", spaceId: space, by: cohost, user: host })
      .rejects("CannotTargetHost")
    given([...fullRoom(), ...promotedToCoHost(user("c2"))])
      .when({ _tag: "RemoveParticipant", spaceId: space, by: cohost, user: user("c2") })
      .rejects("NotPermitted", { rule: "co-hosts can't remove co-hosts" })
    given(fullRoom()).when({ _tag: "RemoveParticipant", spaceId: space, by: host, user: cohost }).accepts()
    given(fullRoom())
      .when({ _tag: "RemoveParticipant", spaceId: space, by: speaker, user: listener })
      .rejects("NotPermitted")
    given(fullRoom())
      .when({ _tag: "RemoveParticipant", spaceId: space, by: host, user: outsider })
      .rejects("NotInSpace")
  })
})

describe("posts", () => {
  it("any user posts up to 280 characters about a scheduled or live Space", () => {
    given(fullRoom())
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: "  great talk  " })
      .emits([
        {
          _tag: "PostPublished",
          spaceId: space,
          at: T0,
          postId: post("p1"),
          author: outsider,
          text: "great talk"
        }
      ])
    given(scheduledSpace())
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: "soon" })
      .accepts()
    given(fullRoom())
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: "x".repeat(281) })
      .rejects("InvalidPost", { maxLength: 280 })
    given(fullRoom())
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: " " })
      .rejects("InvalidPost")
    given(fullRoom())
      .when({ _tag: "PublishPost", spaceId: space, by: removed, postId: post("p1"), text: "hi" })
      .rejects("BannedFromSpace")
    given([...fullRoom(), published()])
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: "again" })
      .rejects("PostAlreadyExists")
  })

  it("the host (or a co-host) pins one post and unpins it", () => {
    const state = given([...fullRoom(), published()])
      .when({ _tag: "PinPost", spaceId: space, by: host, postId: post("p1") })
      .emits([{ _tag: "PostPinned", spaceId: space, at: T0, postId: post("p1"), by: host }])
    expect(state.pinnedPost).toBe("p1")
    given([...fullRoom(), published()])
      .when({ _tag: "PinPost", spaceId: space, by: speaker, postId: post("p1") })
      .rejects("NotPermitted")
    given(fullRoom())
      .when({ _tag: "PinPost", spaceId: space, by: host, postId: post("nope") })
      .rejects("PostNotFound")
    const pinned: SpaceEvent = { _tag: "PostPinned", spaceId: space, at: T0, postId: post("p1"), by: host }
    given([...fullRoom(), published(), pinned])
      .when({ _tag: "PinPost", spaceId: space, by: host, postId: post("p1") })
      .emits([])
    given([...fullRoom(), published(), pinned])
      .when({ _tag: "UnpinPost", spaceId: space, by: cohost })
      .emits([{ _tag: "PostUnpinned", spaceId: space, at: T0, by: cohost }])
    given(fullRoom()).when({ _tag: "UnpinPost", spaceId: space, by: host }).emits([])
  })
})

describe("captions", () => {
  const service = ServiceId.make("transcriber")
  const segment = { speaker, text: " hello ", startMs: 0, endMs: 900 }

  it("the transcription service appends segments while captions are on", () => {
    const state = given(fullRoom())
      .when({ _tag: "AppendCaption", spaceId: space, service, segment })
      .emits([
        { _tag: "CaptionAppended", spaceId: space, at: T0, service, segment: { ...segment, text: "hello" } }
      ])
    expect(state.captionSegments).toBe(1)
    given(fullRoom({ captions: false }))
      .when({ _tag: "AppendCaption", spaceId: space, service, segment })
      .rejects("CaptionsOff")
    given(fullRoom())
      .when({ _tag: "AppendCaption", spaceId: space, service, segment: { ...segment, startMs: 1000 } })
      .rejects("InvalidCaption")
    given(fullRoom())
      .when({ _tag: "AppendCaption", spaceId: space, service, segment: { ...segment, text: "" } })
      .rejects("InvalidCaption")
    given(fullRoom())
      .when({ _tag: "AppendCaption", spaceId: space, service, segment: { ...segment, speaker: outsider } })
      .rejects("NotInSpace")
  })
})
