import {
  Arbitrary,
  Clock,
  Effect,
  Either,
  HashMap,
  HashSet,
  Layer,
  Schema,
  TestClock,
  TestContext
} from "effect"
import assert from "node:assert/strict"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventStore } from "../../eventstore/EventStore.js"
import { makeInMemoryEventStore } from "../../eventstore/InMemoryEventStore.js"
import { type CommandError, Spaces } from "../../handler/Spaces.js"
import type { SpaceId, UserId } from "../../ids.js"
import { spacesOn } from "../../layers.js"
import { defaultRoomRules } from "../../rules/RoomRules.js"
import { propertyRuns, spaceIds, type Step, stepArb, users } from "../../testing/arbitraries.js"
import { T0 } from "../../testing/SpaceSpecification.js"
import { decide } from "../decide.js"
import { evolve, fold } from "../evolve.js"
import { SpaceCommand } from "../SpaceCommand.js"
import { spaceStream } from "../../streams.js"
import { SpaceEvent } from "../SpaceEvent.js"
import {
  initialSpaceState,
  isSpeakingRole,
  type SpaceState,
  SpaceState as SpaceStateSchema
} from "../SpaceState.js"

const rules = defaultRoomRules
const encodeState = Schema.encodeSync(SpaceStateSchema)
/** A canonical form of a state: persistent collections sorted, so equal states compare equal. */
const canonical = (state: SpaceState) => {
  const encoded = encodeState(state)
  return {
    ...encoded,
    participants: [...encoded.participants].sort(([a], [b]) => a.localeCompare(b)),
    speakerInvites: [...encoded.speakerInvites].sort(),
    coHostInvites: [...encoded.coHostInvites].sort(),
    banned: [...encoded.banned].sort(),
    reminders: [...encoded.reminders].sort(),
    posts: [...encoded.posts].sort()
  }
}

/** Recounts roles from the participants (the state keeps running counters). */
const recount = (state: SpaceState) => {
  const roles = [...HashMap.values(state.participants)].map((p) => p.role)
  return {
    cohosts: roles.filter((r) => r === "cohost").length,
    speakers: roles.filter((r) => isSpeakingRole(r)).length,
    listeners: roles.filter((r) => r === "listener").length
  }
}

/** The invariants SPEC §1 states, checked on one Space. (node:assert: cheap enough for every step.) */
const checkSpace = (state: SpaceState, everBanned: ReadonlySet<UserId>) => {
  const hosts = [...HashMap.values(state.participants)].filter((p) => p.role === "host").length
  if (state.status === "live") {
    // Exactly one host: in the room, or away within the grace period — never both, never neither.
    assert.equal(hosts + (state.hostAway === null ? 0 : 1), 1, "exactly one host")
    if (hosts === 1) assert.equal(HashMap.unsafeGet(state.participants, state.host!).role, "host")
  } else {
    assert.equal(HashMap.size(state.participants), 0, "nobody is in a Space that is not live")
  }
  assert.deepEqual(state.counts, recount(state), "role counters match the participants")
  assert.ok(state.counts.speakers <= rules.maxSpeakers, "speakers within the limit")
  assert.ok(state.counts.cohosts <= rules.maxCoHosts, "co-hosts within the limit")
  for (const user of everBanned) {
    assert.ok(HashSet.has(state.banned, user), "a removal is never undone")
    assert.ok(!HashMap.has(state.participants, user), "a removed user never returns")
  }
}

interface World {
  readonly states: ReadonlyMap<SpaceId, SpaceState>
  readonly revisions: ReadonlyMap<SpaceId, number>
}

const runHistory = (steps: ReadonlyArray<Step>) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    const store = yield* EventStore
    yield* TestClock.setTime(T0)
    const banned = new Map<SpaceId, Set<UserId>>(spaceIds.map((id) => [id, new Set()]))
    let previous: World | undefined

    for (const step of steps) {
      if (step.kind === "wait") {
        yield* TestClock.adjust(step.ms)
        continue
      }
      const now = yield* Clock.currentTimeMillis
      const run: Effect.Effect<{ readonly events: ReadonlyArray<unknown> }, CommandError> =
        step.kind === "user"
          ? spaces.executeUser(step.command)
          : spaces.execute(
              step.kind === "space" ? step.command : { ...step.command, scheduledFor: now + step.inMs }
            )
      const outcome = yield* Effect.either(run)
      if (Either.isRight(outcome) && step.kind === "space") {
        for (const event of outcome.right.events as ReadonlyArray<SpaceEvent>) {
          // Only the speaker unmutes themselves.
          if (event._tag === "SpeakerUnmuted")
            assert.equal(
              "by" in step.command && step.command.by,
              event.user,
              "only the speaker unmutes themselves"
            )
          if (event._tag === "ParticipantRemoved") banned.get(event.spaceId)!.add(event.user)
        }
      }
      if (Either.isLeft(outcome)) {
        // Rejections are typed rule errors, never store failures or conflicts in a single writer.
        assert.ok("kind" in outcome.left, `a typed rule error, not ${outcome.left._tag}`)
      }

      const states = new Map<SpaceId, SpaceState>()
      const revisions = new Map<SpaceId, number>()
      for (const id of spaceIds) {
        const state = yield* spaces.space(id)
        states.set(id, state)
        revisions.set(id, (yield* store.readStream(spaceStream(id), { fromRevision: 0 })).length)
        checkSpace(state, banned.get(id)!)
        // Past its deadline a scheduled Space can only expire (or be ended by an operator), however
        // late the scheduler is: no start, no edit, no reschedule.
        const before = previous?.states.get(id)
        if (
          before?.status === "scheduled" &&
          before.scheduledFor !== null &&
          now >= before.scheduledFor + rules.scheduledExpiryMs &&
          revisions.get(id) !== previous?.revisions.get(id)
        )
          assert.ok(
            state.endReason === "expired" || state.endReason === "operator",
            "a scheduled Space past its deadline only expires"
          )
        // Nothing changes after the end.
        if (previous?.states.get(id)?.status === "ended")
          assert.equal(revisions.get(id), previous.revisions.get(id), "nothing changes after the end")
      }
      // A user is never live in two Spaces.
      for (const user of users) {
        const liveIn = spaceIds.filter(
          (id) => states.get(id)!.status === "live" && HashMap.has(states.get(id)!.participants, user)
        )
        assert.ok(liveIn.length <= 1, `${user} is live in ${liveIn.join(" and ")}`)
      }
      previous = { states, revisions }
    }

    // Folding the log reproduces the state the handler holds (which it built incrementally).
    for (const id of spaceIds) {
      const recorded = yield* store.readStream(spaceStream(id))
      const events = recorded.map((r) => Schema.decodeUnknownSync(SpaceEvent)(r.data))
      expect(canonical(fold(events, initialSpaceState))).toEqual(canonical(yield* spaces.space(id)))
    }
  })

const freshWorld = () =>
  spacesOn(Layer.sync(EventStore, makeInMemoryEventStore)).pipe(Layer.provideMerge(TestContext.TestContext))

describe("invariants over generated command sequences", () => {
  it("hold after every command, and replaying the log rebuilds the state", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 60 }), (steps) =>
        Effect.runPromise(runHistory(steps).pipe(Effect.provide(freshWorld())))
      ),
      { numRuns: propertyRuns() }
    )
  }, 600_000)
})

describe("totality", () => {
  const anyEvent = Arbitrary.make(SpaceEvent)
  const anyCommand = Arbitrary.make(SpaceCommand)

  it("evolve never throws, whatever the events and their order", () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 40 }), (events) => {
        const state = events.reduce(evolve, initialSpaceState)
        expect(state.counts).toEqual(recount(state))
      }),
      { numRuns: propertyRuns() }
    )
  })

  it("decide never throws or dies: it answers events or a typed error", () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 30 }), anyCommand, fc.nat(), (events, command, now) => {
        const state = fold(events, initialSpaceState)
        const exit = Effect.runSyncExit(decide(command, state, { now, rules, hostFollows: () => false }))
        if (exit._tag === "Failure") {
          expect(exit.cause._tag).toBe("Fail")
          expect(exit.cause._tag === "Fail" && exit.cause.error).toHaveProperty("kind")
        }
      }),
      { numRuns: propertyRuns() }
    )
  })
})
