import { Effect, Either, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { EventStore, type EventStoreShape } from "../eventstore/EventStore.js"
import { makeInMemoryEventStore } from "../eventstore/InMemoryEventStore.js"
import { SpaceId, UserId } from "../ids.js"
import { spacesOn } from "../layers.js"
import { defaultRoomRules } from "../rules/RoomRules.js"
import { spaceStream } from "../streams.js"
import { participantOf } from "../space/SpaceState.js"
import { oneStreamAtATime } from "../testing/stores.js"
import { Spaces } from "./Spaces.js"

const u = UserId.make
const s = SpaceId.make
const create = (spaceId: string, by: string) => ({
  _tag: "CreateSpace" as const,
  spaceId: s(spaceId),
  by: u(by),
  title: "A Space",
  topics: [],
  speakPolicy: "everyone" as const,
  recording: false,
  captions: false
})
const join = (spaceId: string, by: string) => ({ _tag: "JoinSpace" as const, spaceId: s(spaceId), by: u(by) })

/**
 * The join path decides the admission before the user's leave and move are appended with it.
 * Between the decision and the appends another command can change the target Space. These pin that
 * interleaving: Bob fills the target right after Alice's decision, so she is refused in the end.
 */
describe("a join refused on the final decision after passing the first one", () => {
  const rules = { ...defaultRoomRules, maxListeners: 1 }

  /**
   * Runs Alice's join to "target" with Bob's join slipped in by `hooked` at the right moment. Bob
   * joins through another handler on the same log, as through another server node: in one process
   * the admissions to a Space take turns.
   */
  const race = (inner: EventStoreShape, hooked: EventStoreShape) =>
    Effect.gen(function* () {
      const spaces = yield* Spaces
      yield* spaces.execute(create("previous", "host-p"))
      yield* spaces.execute(join("previous", "alice"))
      yield* spaces.execute(create("target", "host-t"))
      const otherNode = spacesOn(Layer.succeed(EventStore, inner), { rules })
      armed = () =>
        Effect.runPromiseExit(
          Effect.flatMap(Spaces, (other) => other.execute(join("target", "bob"))).pipe(
            Effect.provide(otherNode)
          )
        )
      const refused = yield* Effect.either(spaces.execute(join("target", "alice")))
      return {
        refused,
        previous: yield* spaces.space(s("previous")),
        target: yield* spaces.space(s("target"))
      }
    }).pipe(Effect.provide(spacesOn(Layer.succeed(EventStore, hooked), { rules })))
  let armed: (() => Promise<unknown>) | undefined

  /** Runs Bob's join once, the first time `when` holds, before the write goes on. */
  const once = (when: boolean) =>
    Effect.promise(async () => {
      const bobJoins = armed
      if (!when || bobJoins === undefined) return
      armed = undefined
      await bobJoins()
    })

  it("atomic append: refused, nothing of Alice's move written, she is still in the Space she was in", async () => {
    const inner = makeInMemoryEventStore()
    const { refused, previous, target } = await Effect.runPromise(
      race(inner, {
        ...inner,
        appendMany: (appends) =>
          Effect.zipRight(
            once(appends.some((a) => a.stream === spaceStream(s("target")))),
            inner.appendMany!(appends)
          )
      })
    )
    expect(armed).toBeUndefined()
    expect(Either.isLeft(refused) ? refused.left._tag : "admitted").toBe("ListenerLimitReached")
    expect(participantOf(target, u("bob"))).toBeDefined()
    expect(participantOf(target, u("alice"))).toBeUndefined()
    expect(participantOf(previous, u("alice"))).toBeDefined()
    // The refused attempt wrote nothing: "previous" never saw her leave.
    const log = await Effect.runPromise(inner.readStream(spaceStream(s("previous"))))
    expect(log.map((e) => e.type)).not.toContain("ParticipantLeft")
  })

  it("one stream at a time: refused, and the user is back in the Space they were in (not left in none)", async () => {
    const inner = oneStreamAtATime(makeInMemoryEventStore())
    const { refused, previous, target } = await Effect.runPromise(
      race(inner, {
        ...inner,
        append: (stream, events, expected) =>
          Effect.zipRight(once(stream === spaceStream(s("previous"))), inner.append(stream, events, expected))
      })
    )
    expect(armed).toBeUndefined()
    expect(Either.isLeft(refused) ? refused.left._tag : "admitted").toBe("ListenerLimitReached")
    expect(participantOf(target, u("bob"))).toBeDefined()
    expect(participantOf(target, u("alice"))).toBeUndefined()
    // Before the fix, Alice was in no Space here: she had left "previous" for a Space that refused her.
    expect(participantOf(previous, u("alice"))).toBeDefined()
  })
})

/**
 * Two nodes move one user at the same moment: back into the Space their stream already names on
 * one, into another Space on the other. With no lock shared between the two handlers, only the
 * log's expected revisions can keep the user in one live Space: the rejoin must write to the
 * user's stream too, or the two moves touch different streams and both commit.
 */
describe("a rejoin racing a move of the same user on another node", () => {
  it("is fenced by the user's stream: the user ends up live in one Space", async () => {
    const inner = makeInMemoryEventStore()
    let racing: (() => Promise<unknown>) | undefined
    // The other node's move runs once, right before this node's write, whichever way it is made.
    const otherMoveFirst = Effect.promise(async () => {
      const otherMove = racing
      racing = undefined
      if (otherMove !== undefined) await otherMove()
    })
    const hooked: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        Effect.zipRight(otherMoveFirst, inner.append(stream, events, expected)),
      appendMany: (appends) => Effect.zipRight(otherMoveFirst, inner.appendMany!(appends))
    }
    const onNode = (store: EventStoreShape) => spacesOn(Layer.succeed(EventStore, store))
    const states = await Effect.runPromise(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute(create("b", "host-b"))
        yield* spaces.execute(create("c", "host-c"))
        yield* spaces.execute(join("b", "ana"))
        yield* spaces.execute({ _tag: "LeaveSpace", spaceId: s("b"), by: u("ana") })
        // Ana's stream still names "b". Her rejoin of "b" here; her move to "c" on the other node,
        // slipped in between this node's decision and its append.
        racing = () =>
          Effect.runPromise(
            Effect.flatMap(Spaces, (other) => other.execute(join("c", "ana"))).pipe(
              Effect.provide(onNode(inner))
            )
          )
        yield* spaces.execute(join("b", "ana"))
        return [yield* spaces.space(s("b")), yield* spaces.space(s("c"))]
      }).pipe(Effect.provide(onNode(hooked)))
    )
    expect(racing).toBeUndefined()
    const liveIn = states.filter((state) => participantOf(state, u("ana")) !== undefined)
    expect(liveIn).toHaveLength(1)
  })
})
