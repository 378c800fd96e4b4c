import type { SpaceId, UserId } from "@spaces/domain"
import type { ViewChange } from "../ReadModels.js"
import type { DomainEvent, DomainEventTag, Projection } from "../runner/Projection.js"
import { spaceEventsReadBy } from "../spaceEventReaders.js"
import type { DeferredTables, Tx } from "../store/Storage.js"

/**
 * The live bar, fanned out on write for most people and on read for the few with many followers.
 *
 * When someone with fewer than `fanOutThreshold` followers enters a live Space, each follower's
 * inbox row for that Space gets them (one write per follower: at most the threshold). Someone
 * with more followers is "pulled" instead: one row in a small global list of the live pulled
 * participants, which each feed query checks against the viewer's follows. A join therefore
 * costs at most `fanOutThreshold` writes, whatever the follower count; a feed query costs the
 * viewer's inbox plus one lookup per pulled participant live right now (few: they are the
 * most-followed people who are on air). Whether a presence is pushed or pulled is decided when
 * the user enters and kept with the presence, so crossing the threshold mid-Space needs no
 * migration: the next entry uses the new count. `bench/projections.bench.ts` measures both sides.
 */
export const FEED = "feed"
export const FOLLOWERS = "followers"
export const FOLLOWER_COUNT = "followerCount"
/** user → Space they are in (live), with whether they are on stage and how they were fanned out. */
export const PRESENCE = "presence"
export const MEMBERS = "members"
/** Partition "" → `${spaceId} ${user}`: the live presences that were not fanned out. */
export const PULLED = "pulled"
/**
 * viewer → `${spaceId} ${user}` → whether `user`, whom the viewer follows, is on stage in that
 * Space (fanned out). One row per followed person, so that fanning out a presence writes each
 * follower's row blind, without reading it first.
 */
export const INBOX = "inbox"

export interface Presence {
  readonly speaking: boolean
  readonly pushed: boolean
}
export interface PulledPresence {
  readonly user: UserId
  readonly spaceId: SpaceId
  readonly speaking: boolean
}

/** Ids hold no spaces (see the domain's `opaqueId`): a space separates the two parts. */
export const inboxId = (spaceId: string, user: string) => `${spaceId} ${user}`

export const DEFAULT_FAN_OUT_THRESHOLD = 2_000

export interface FeedOptions {
  /** Followers from which a participant is pulled by readers instead of pushed to followers. */
  readonly fanOutThreshold?: number
}

const pulledId = inboxId

export const feedProjection = (options: FeedOptions = {}): Projection => {
  const threshold = options.fanOutThreshold ?? DEFAULT_FAN_OUT_THRESHOLD

  // The helpers take the transaction and `emit` as arguments: no closures made per event.
  type Emit = (change: ViewChange) => void

  const followersOf = (tx: Tx, user: UserId) => tx.scan<1>(FOLLOWERS, user).map(([f]) => f as UserId)

  /** `id`: the row's `inboxId`, made once by the caller for all the followers it writes. */
  const setInbox = (tx: Tx, viewer: string, id: string, speaking: boolean | undefined) => {
    if (speaking === undefined) tx.del(INBOX, viewer, id)
    else tx.put(INBOX, viewer, id, speaking)
  }

  /** Writes `user`'s presence (or its end, `speaking` undefined) where their followers see it. */
  const publish = (
    tx: Tx,
    emit: Emit,
    user: UserId,
    spaceId: SpaceId,
    pushed: boolean,
    speaking: boolean | undefined
  ) => {
    if (pushed) {
      // A staged rebuild makes the inbox rows at its end: nothing to fan out now.
      if (tx.deferred?.has(INBOX) === true) return
      const followers = followersOf(tx, user)
      const id = inboxId(spaceId, user)
      for (const follower of followers) setInbox(tx, follower, id, speaking)
      if (followers.length > 0) emit({ _tag: "Feed", users: followers })
    } else {
      if (speaking === undefined) tx.del(PULLED, "", pulledId(spaceId, user))
      else tx.put(PULLED, "", pulledId(spaceId, user), { user, spaceId, speaking } satisfies PulledPresence)
      emit({ _tag: "Feed", users: "all" })
    }
  }

  const enter = (tx: Tx, emit: Emit, user: UserId, spaceId: SpaceId, speaking: boolean) => {
    const present = tx.get<Presence>(PRESENCE, user, spaceId)
    if (present !== undefined) return setSpeaking(tx, emit, user, spaceId, speaking)
    const pushed = (tx.get<number>(FOLLOWER_COUNT, user, "") ?? 0) < threshold
    tx.put(PRESENCE, user, spaceId, { speaking, pushed } satisfies Presence)
    tx.put(MEMBERS, spaceId, user, 1)
    publish(tx, emit, user, spaceId, pushed, speaking)
  }

  const setSpeaking = (tx: Tx, emit: Emit, user: UserId, spaceId: SpaceId, speaking: boolean) => {
    const present = tx.get<Presence>(PRESENCE, user, spaceId)
    // Nothing the live bar shows changes between co-host and speaker.
    if (present === undefined || present.speaking === speaking) return
    tx.put(PRESENCE, user, spaceId, { ...present, speaking })
    publish(tx, emit, user, spaceId, present.pushed, speaking)
  }

  const leave = (tx: Tx, emit: Emit, user: UserId, spaceId: SpaceId) => {
    const present = tx.get<Presence>(PRESENCE, user, spaceId)
    if (present === undefined) return
    tx.del(PRESENCE, user, spaceId)
    tx.del(MEMBERS, spaceId, user)
    publish(tx, emit, user, spaceId, present.pushed, undefined)
  }

  const follow = (tx: Tx, emit: Emit, follower: UserId, followee: UserId, follows: boolean) => {
    // One edge table, keyed by followee: fan-out reads it, and readers check an edge by point lookup.
    if ((tx.get(FOLLOWERS, followee, follower) !== undefined) === follows) return
    const count = tx.get<number>(FOLLOWER_COUNT, followee, "") ?? 0
    if (follows) {
      tx.put(FOLLOWERS, followee, follower, 1)
      tx.put(FOLLOWER_COUNT, followee, "", count + 1)
    } else {
      tx.del(FOLLOWERS, followee, follower)
      if (count <= 1) tx.del(FOLLOWER_COUNT, followee, "")
      else tx.put(FOLLOWER_COUNT, followee, "", count - 1)
    }
    emit({ _tag: "Feed", users: [follower] })
    if (tx.deferred?.has(INBOX) === true) return
    // Pulled presences are matched against follows at read time; pushed ones are copied here.
    for (const [spaceId, presence] of tx.scan<Presence>(PRESENCE, followee))
      if (presence.pushed)
        setInbox(tx, follower, inboxId(spaceId, followee), follows ? presence.speaking : undefined)
  }

  const step = (tx: Tx, event: DomainEvent, emit: Emit) => {
    switch (event._tag) {
      case "UserFollowed":
        return follow(tx, emit, event.user, event.followee, true)
      case "UserUnfollowed":
        return follow(tx, emit, event.user, event.followee, false)
      case "SpaceStarted":
        return enter(tx, emit, event.host, event.spaceId, true)
      case "HostReturned":
        return enter(tx, emit, event.user, event.spaceId, true)
      case "ListenerJoined":
        return enter(tx, emit, event.user, event.spaceId, false)
      case "ParticipantLeft":
      case "HostLeft":
      case "ParticipantRemoved":
        return leave(tx, emit, event.user, event.spaceId)
      case "SpeakRequestApproved":
      case "SpeakerInviteAccepted":
      case "CoHostRemoved":
      case "CoHostInviteAccepted":
        return setSpeaking(tx, emit, event.user, event.spaceId, true)
      case "SteppedDown":
        return setSpeaking(tx, emit, event.user, event.spaceId, false)
      case "SpaceEnded":
      case "SpaceCancelled":
      case "SpaceExpired":
        for (const [user] of tx.scan<1>(MEMBERS, event.spaceId))
          leave(tx, emit, user as UserId, event.spaceId)
        return
    }
  }

  /**
   * A viewer's inbox row for a Space and a person they follow holds whether that person, present
   * there and fanned out, is on stage: a function of the presences and the follows alone (each
   * entry, stage change, exit, follow and unfollow keeps it so). A staged rebuild makes the rows
   * once from the final presences instead of writing and deleting a row per follower at every
   * entry and exit.
   */
  const deferred: DeferredTables = {
    tables: new Set([INBOX]),
    write: (tx) => {
      for (const [user, spaceId, presence] of tx.rows<Presence>(PRESENCE)) {
        if (!presence.pushed) continue
        const id = inboxId(spaceId, user)
        for (const [follower] of tx.scan<1>(FOLLOWERS, user)) setInbox(tx, follower, id, presence.speaking)
      }
    }
  }

  return {
    name: FEED,
    // 2: an inbox row per followed person in a Space (was: one per Space, rewritten on each change).
    version: 2,
    handles: new Set<DomainEventTag>(["UserFollowed", "UserUnfollowed", ...spaceEventsReadBy("feed")]),
    step,
    deferred
  }
}
