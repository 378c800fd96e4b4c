import {
  defaultRoomRules,
  type EventData,
  makeInMemoryEventStore,
  type SpaceEvent,
  SpaceId,
  type UserEvent,
  UserId
} from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { feedChanged, type ViewChange } from "../ReadModels.js"
import { projections, queriesOf } from "../ReadModelsLive.js"
import { applyBatch, type Cursor, mergeChanges } from "../runner/applyBatch.js"
import { makeMemoryStorage } from "../store/MemoryStorage.js"

const at = Date.UTC(2026, 0, 1)
const space = SpaceId.make("s1")
const viewer = UserId.make("vera")
const stranger = UserId.make("sam")

const data = (event: SpaceEvent | UserEvent, id: number): EventData => ({
  id: `e${id}`,
  type: event._tag,
  data: event,
  metadata: { recordedAt: at }
})

/** Every projection over one in-memory log, applied batch by batch as a runner does. */
const world = () => {
  const store = makeInMemoryEventStore()
  const storage = makeMemoryStorage()
  const all = projections()
  const cursors = new Map<string, Cursor>(all.map((p) => [p.name, { position: 0, at: null }]))
  for (const p of all) storage.projection(p.name).reset(p.version)
  let ids = 0
  /** Appends `events` to `stream` and applies them: answers the batch's merged view changes. */
  const apply = (stream: string, events: ReadonlyArray<SpaceEvent | UserEvent>) =>
    Effect.gen(function* () {
      const from = Math.min(...[...cursors.values()].map((c) => c.position))
      yield* store.append(
        stream,
        events.map((e) => data(e, ids++)),
        "any"
      )
      const batch = Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(from)))
      const changes: Array<ViewChange> = []
      for (const p of all) {
        const outcome = applyBatch(p, storage.projection(p.name), cursors.get(p.name) as Cursor, batch)
        expect(outcome.error).toBeUndefined()
        changes.push(...outcome.changes)
      }
      return mergeChanges(changes)
    })
  return { apply, queries: queriesOf(storage, defaultRoomRules) }
}

/** Whether the batch's changes reach `user`'s live feed, as the feed SSE decides it. */
const reaches = (changes: ReadonlyArray<ViewChange>, user: UserId, listed: ReadonlySet<string>) =>
  changes.some((change) => feedChanged(change, user, listed))

describe("feed changes", () => {
  it("a listener joining or leaving a live Space reaches the feeds that list it, and only those", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const { apply, queries } = world()
        yield* apply("user-vera", [{ _tag: "UserFollowed", user: viewer, followee: UserId.make("hana"), at }])
        yield* apply("space-s1", [
          {
            _tag: "SpaceCreated",
            spaceId: space,
            at,
            host: UserId.make("hana"),
            title: "Morning show",
            topics: [],
            speakPolicy: "everyone",
            recording: false,
            captions: false,
            scheduledFor: null
          },
          { _tag: "SpaceStarted", spaceId: space, at, host: UserId.make("hana") }
        ])
        const listed = new Set((yield* queries.feed(viewer)).map((e) => e.space.spaceId))
        expect([...listed]).toEqual([space])

        // Sam follows nobody and nobody follows Sam: only the listener count of the Space changes.
        const joined = yield* apply("space-s1", [
          { _tag: "ListenerJoined", spaceId: space, at, user: stranger }
        ])
        expect(joined).toContainEqual({ _tag: "FeedSpaces", spaceIds: [space] })
        expect(reaches(joined, viewer, listed)).toBe(true)
        expect(reaches(joined, UserId.make("otto"), new Set())).toBe(false)
        expect((yield* queries.feed(viewer))[0]?.space.listenerCount).toBe(1)

        const left = yield* apply("space-s1", [
          { _tag: "ParticipantLeft", spaceId: space, at, user: stranger, reason: "left" }
        ])
        expect(reaches(left, viewer, listed)).toBe(true)
        expect((yield* queries.feed(viewer))[0]?.space.listenerCount).toBe(0)
      })
    ))

  it("says nothing to feeds about Spaces that are not live", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const { apply } = world()
        const created = yield* apply("space-s1", [
          {
            _tag: "SpaceCreated",
            spaceId: space,
            at,
            host: UserId.make("hana"),
            title: "Later",
            topics: [],
            speakPolicy: "everyone",
            recording: false,
            captions: false,
            scheduledFor: at + 3_600_000
          }
        ])
        expect(created.some((c) => c._tag === "FeedSpaces")).toBe(false)
      })
    ))

  it("merges a batch's Space-scoped feed changes into one", () => {
    const a = SpaceId.make("a")
    const b = SpaceId.make("b")
    expect(
      mergeChanges([
        { _tag: "FeedSpaces", spaceIds: [a] },
        { _tag: "FeedSpaces", spaceIds: [b, a] }
      ])
    ).toEqual([{ _tag: "FeedSpaces", spaceIds: [a, b] }])
  })
})
