/**
 * What the read models must show, computed the slow, obvious way: fold every Space's events with
 * the domain's `evolve`, the follow graph with `evolveUser`, and derive each view by brute force.
 * Orders the domain state doesn't keep (who took the stage when, who entered when) are recorded
 * while walking the states. Only the ordering rules (comparators) are shared with the projections.
 */
import {
  decodeRecorded,
  evolve,
  evolveUser,
  initialSpaceState,
  initialUserState,
  isSpeakingRole,
  type RecordedEvent,
  type RoomRules,
  SpaceEvent,
  type SpaceId,
  type SpaceState,
  type TopicSlug,
  UserEvent,
  type UserId,
  type UserState,
  isUserStream
} from "@spaces/domain"
import { Either, HashMap, HashSet, Option } from "effect"
import { byFeedRank } from "../feed/feedQuery.js"
import { bySchedule, byListeners, compare } from "../room/roomQueries.js"
import { wordsOf } from "../topics/topicsProjection.js"
import type {
  CreatorView,
  DueCommand,
  EndedSpaceSummary,
  FeedEntry,
  LiveSpaceSummary,
  CaptionView,
  PostView,
  RoomView,
  ScheduledSpaceSummary,
  SearchResults,
  TopicView
} from "../views.js"

interface Walked {
  readonly id: SpaceId
  state: SpaceState
  joinOrder: Map<UserId, number>
  stage: Array<UserId>
  recorded: boolean
  posts: Array<PostView>
  captions: Array<CaptionView>
  /** Words said in its captions while live. */
  said: Set<string>
}

const decodeSpace = decodeRecorded(SpaceEvent)
const decodeUser = decodeRecorded(UserEvent)

export const referenceOf = (
  log: ReadonlyArray<RecordedEvent>,
  rules: Pick<RoomRules, "scheduledExpiryMs">
) => {
  const spaces = new Map<SpaceId, Walked>()
  const users = new Map<UserId, UserState>()
  let seq = 0
  for (const recorded of log) {
    if (isUserStream(recorded.streamId)) {
      const event = Either.getOrThrow(decodeUser(recorded))
      users.set(event.user, evolveUser(users.get(event.user) ?? initialUserState, event))
      continue
    }
    const event = Either.getOrThrow(decodeSpace(recorded))
    const walked: Walked = spaces.get(event.spaceId) ?? {
      id: event.spaceId,
      state: initialSpaceState,
      joinOrder: new Map(),
      stage: [],
      recorded: false,
      posts: [],
      captions: [],
      said: new Set()
    }
    const before = walked.state
    const after = evolve(before, event)
    walked.state = after
    if (event._tag === "CaptionAppended" && before.status === "live")
      for (const word of wordsOf(event.segment.text)) walked.said.add(word)
    for (const user of HashMap.keys(before.participants))
      if (!HashMap.has(after.participants, user)) walked.joinOrder.delete(user)
    for (const user of HashMap.keys(after.participants))
      if (!walked.joinOrder.has(user)) walked.joinOrder.set(user, ++seq)
    const onStage = (s: SpaceState, user: UserId) => {
      const role = Option.getOrUndefined(HashMap.get(s.participants, user))?.role
      return role === "cohost" || role === "speaker"
    }
    walked.stage = walked.stage.filter((user) => onStage(after, user))
    for (const user of HashMap.keys(after.participants))
      if (onStage(after, user) && !walked.stage.includes(user)) walked.stage.push(user)
    if (after.status === "live" && after.recording) walked.recorded = true
    if (event._tag === "CaptionAppended") walked.captions.push({ ...event.segment, at: event.at })
    if (event._tag === "PostPublished")
      walked.posts.unshift({ postId: event.postId, author: event.author, text: event.text, at: event.at })
    spaces.set(event.spaceId, walked)
  }

  const all = [...spaces.values()]
  const speakers = (w: Walked): ReadonlyArray<UserId> => {
    const host = w.state.host!
    return HashMap.has(w.state.participants, host) ? [host, ...w.stage] : w.stage
  }
  const live = (w: Walked): LiveSpaceSummary => ({
    spaceId: w.id,
    title: w.state.title,
    topics: w.state.topics,
    host: w.state.host!,
    speakers: speakers(w),
    listenerCount: w.state.counts.listeners,
    startedAt: w.state.startedAt ?? 0,
    recording: w.state.recording
  })
  const scheduled = (w: Walked): ScheduledSpaceSummary => ({
    spaceId: w.id,
    title: w.state.title,
    topics: w.state.topics,
    host: w.state.host!,
    scheduledFor: w.state.scheduledFor ?? 0,
    reminders: HashSet.size(w.state.reminders)
  })
  const ended = (w: Walked): EndedSpaceSummary => ({
    spaceId: w.id,
    title: w.state.title,
    topics: w.state.topics,
    host: w.state.host!,
    startedAt: w.state.startedAt,
    endedAt: w.state.endedAt ?? 0,
    endReason: w.state.endReason ?? "host",
    recorded: w.recorded
  })
  const liveOnes = () => all.filter((w) => w.state.status === "live")
  const upcomingOnes = () => all.filter((w) => w.state.status === "scheduled")
  const roleRank = { host: 0, cohost: 1, speaker: 2, listener: 3 } as const

  return {
    spaces: [...spaces.keys()],
    feed: (viewer: UserId): ReadonlyArray<FeedEntry> => {
      const follows = (users.get(viewer) ?? initialUserState).follows
      const out: Array<FeedEntry> = []
      for (const w of liveOnes()) {
        const followed = [...HashMap.entries(w.state.participants)]
          .filter(([user]) => HashSet.has(follows, user))
          .map(([user, p]) => [user, isSpeakingRole(p.role)] as const)
          .sort(([a, x], [b, y]) => Number(y) - Number(x) || compare(a, b))
        if (followed.length === 0) continue
        out.push({
          space: live(w),
          followedParticipants: followed.map(([user]) => user),
          followsHostOrSpeaker: followed.some(([, speaking]) => speaking)
        })
      }
      return out.sort(byFeedRank)
    },
    topic: (topic: TopicSlug): TopicView => ({
      topic,
      live: liveOnes()
        .filter((w) => w.state.topics.includes(topic))
        .map(live)
        .sort(byListeners),
      upcoming: upcomingOnes()
        .filter((w) => w.state.topics.includes(topic))
        .map(scheduled)
        .sort(bySchedule)
    }),
    search: (query: { readonly text?: string; readonly topic?: TopicSlug }): SearchResults => {
      const words = wordsOf(query.text ?? "")
      const matches = (w: Walked) =>
        (query.topic === undefined || w.state.topics.includes(query.topic)) &&
        words.every((q) => wordsOf(w.state.title).some((t) => t.startsWith(q)) || w.said.has(q))
      return {
        live: liveOnes().filter(matches).map(live).sort(byListeners),
        upcoming: upcomingOnes().filter(matches).map(scheduled).sort(bySchedule)
      }
    },
    creator: (user: UserId): CreatorView => {
      const hosted = all.filter((w) => w.state.host === user)
      return {
        user,
        live: hosted
          .filter((w) => w.state.status === "live")
          .map(live)
          .sort((a, b) => b.startedAt - a.startedAt || compare(a.spaceId, b.spaceId)),
        scheduled: hosted
          .filter((w) => w.state.status === "scheduled")
          .map(scheduled)
          .sort(bySchedule),
        ended: hosted
          .filter((w) => w.state.status === "ended")
          .map(ended)
          .sort((a, b) => b.endedAt - a.endedAt || compare(a.spaceId, b.spaceId))
      }
    },
    reminders: (user: UserId): ReadonlyArray<ScheduledSpaceSummary> =>
      upcomingOnes()
        .filter((w) => HashSet.has(w.state.reminders, user))
        .map(scheduled)
        .sort(bySchedule),
    due: (now: number): ReadonlyArray<DueCommand> => {
      const out: Array<DueCommand> = []
      for (const w of all) {
        const s = w.state
        if (
          s.status === "scheduled" &&
          s.scheduledFor !== null &&
          s.scheduledFor + rules.scheduledExpiryMs <= now
        )
          out.push({ spaceId: w.id, command: "ExpireSpace", dueAt: s.scheduledFor + rules.scheduledExpiryMs })
        if (s.status === "live" && s.hostAway !== null && s.hostAway.graceEndsAt <= now)
          out.push({ spaceId: w.id, command: "EndAbandonedSpace", dueAt: s.hostAway.graceEndsAt })
      }
      return out.sort((a, b) => a.dueAt - b.dueAt || compare(a.spaceId, b.spaceId))
    },
    /** Invitations are sets in the domain: they come back sorted here (compare them sorted). */
    room: (spaceId: SpaceId): Option.Option<RoomView> => {
      const w = spaces.get(spaceId)
      if (w === undefined) return Option.none()
      const s = w.state
      return Option.some({
        spaceId,
        status: s.status,
        title: s.title,
        topics: s.topics,
        host: s.host!,
        hostAway: s.hostAway,
        speakPolicy: s.speakPolicy,
        recording: s.recording,
        captions: s.captions,
        scheduledFor: s.scheduledFor,
        startedAt: s.startedAt,
        endedAt: s.endedAt,
        participants: [...HashMap.entries(s.participants)]
          .sort(
            ([a, p], [b, q]) =>
              roleRank[p.role] - roleRank[q.role] || w.joinOrder.get(a)! - w.joinOrder.get(b)!
          )
          .map(([user, p]) => ({ user, role: p.role, muted: p.muted, joinedAt: p.joinedAt })),
        raisedHands: s.raisedHands,
        invitations: {
          speakers: [...HashSet.values(s.speakerInvites)].sort(compare),
          cohosts: [...HashSet.values(s.coHostInvites)].sort(compare)
        },
        counts: s.counts,
        pinnedPost: s.pinnedPost === null ? null : (w.posts.find((p) => p.postId === s.pinnedPost) ?? null),
        recentPosts: w.posts.slice(0, 20),
        recentCaptions: w.captions.slice(-30),
        reminders: HashSet.size(s.reminders)
      })
    }
  }
}
