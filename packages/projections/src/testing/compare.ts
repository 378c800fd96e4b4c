import { defaultRoomRules, type RecordedEvent, TopicSlug } from "@spaces/domain"
import { Effect, Option } from "effect"
import { expect } from "vitest"
import type { ReadModelsShape } from "../ReadModels.js"
import type { RoomView } from "../views.js"
import { searches, spaceIds, topicsUsed, users } from "./history.js"
import { referenceOf } from "./reference.js"

type Queries = Pick<ReadModelsShape, "feed" | "topic" | "search" | "creator" | "room" | "reminders" | "due">

/** Every view of the generated world, as one comparable object. */
export const snapshot = (q: Queries, now: number, options: { readonly sortInvitations?: boolean } = {}) =>
  Effect.gen(function* () {
    const sortRoom = (room: Option.Option<RoomView>) =>
      options.sortInvitations !== true
        ? room
        : Option.map(room, (r) => ({
            ...r,
            invitations: {
              speakers: [...r.invitations.speakers].sort(),
              cohosts: [...r.invitations.cohosts].sort()
            }
          }))
    const topics = topicsUsed.map((t) => TopicSlug.make(t))
    return {
      feeds: yield* Effect.forEach(users, (u) => q.feed(u, { limit: 1_000 })),
      // A short page: the query ranks by its rows first and reads room documents for the top only.
      feedTops: yield* Effect.forEach(users, (u) => q.feed(u, { limit: 2 })),
      creators: yield* Effect.forEach(users, (u) => q.creator(u)),
      reminders: yield* Effect.forEach(users, (u) => q.reminders(u)),
      rooms: yield* Effect.forEach(spaceIds, (s) => Effect.map(q.room(s), sortRoom)),
      topics: yield* Effect.forEach(topics, (t) => q.topic(t)),
      searches: yield* Effect.forEach(searches, (text) =>
        Effect.all([q.search({ text }), q.search({ text, topic: topics[0]! })])
      ),
      due: yield* Effect.all([q.due(now), q.due(now + 2 * 3_600_000)])
    }
  })

/** The same views computed by brute force from the domain's states. */
export const referenceSnapshot = (log: ReadonlyArray<RecordedEvent>, now: number) => {
  const ref = referenceOf(log, defaultRoomRules)
  const queries: Queries = {
    feed: (u, options) => Effect.succeed(ref.feed(u).slice(0, options?.limit)),
    creator: (u) => Effect.succeed(ref.creator(u)),
    reminders: (u) => Effect.succeed(ref.reminders(u)),
    room: (s) => Effect.succeed(ref.room(s)),
    topic: (t) => Effect.succeed(ref.topic(t)),
    search: (query) => Effect.succeed(ref.search(query)),
    due: (at) => Effect.succeed(ref.due(at))
  }
  return snapshot(queries, now, { sortInvitations: true })
}

export const expectSame = (actual: unknown, expected: unknown) => expect(actual).toStrictEqual(expected)
