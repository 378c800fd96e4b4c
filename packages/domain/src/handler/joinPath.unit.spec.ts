import { Effect, Either, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { EventStore, type EventStoreShape } from "../eventstore/EventStore.js"
import { makeInMemoryEventStore } from "../eventstore/InMemoryEventStore.js"
import { SpaceId, UserId } from "../ids.js"
import { spacesOn } from "../layers.js"
import { defaultRoomRules } from "../rules/RoomRules.js"
import { spaceStream } from "../streams.js"
import { participantOf } from "../space/SpaceState.js"
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
 * The join path decides twice: a trial decision (does the command admit the user?) before the user
 * leaves their previous Space, and the final one after. Between the two, another command can change
 * the target Space. This pins that interleaving: Bob fills the target right after Alice has left
 * her previous Space, so the final decision refuses her.
 */
describe("a join refused on the final decision after passing the trial one", () => {
  it("is refused, and the user is back in the Space they were in (not left in none)", async () => {
    const inner = makeInMemoryEventStore()
    let onLeave: (() => Promise<unknown>) | undefined
    const store: EventStoreShape = {
      ...inner,
      append: (stream, events, expected) =>
        Effect.gen(function* () {
          const hook = onLeave
          if (hook !== undefined && stream === spaceStream(s("previous"))) {
            onLeave = undefined
            yield* Effect.promise(hook)
          }
          return yield* inner.append(stream, events, expected)
        })
    }
    const rules = { ...defaultRoomRules, maxListeners: 1 }
    const layer = spacesOn(Layer.succeed(EventStore, store), { rules })
    const { refused, previous, target } = await Effect.runPromise(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute(create("previous", "host-p"))
        yield* spaces.execute(join("previous", "alice"))
        yield* spaces.execute(create("target", "host-t"))
        // Alice's trial decision passes (the target has room); as she leaves "previous", Bob fills it.
        onLeave = () => Effect.runPromiseExit(spaces.execute(join("target", "bob"))).then(() => undefined)
        const refused = yield* Effect.either(spaces.execute(join("target", "alice")))
        return {
          refused,
          previous: yield* spaces.space(s("previous")),
          target: yield* spaces.space(s("target"))
        }
      }).pipe(Effect.provide(layer))
    )
    expect(onLeave).toBeUndefined()
    expect(Either.isLeft(refused) ? refused.left._tag : "admitted").toBe("ListenerLimitReached")
    expect(participantOf(target, u("bob"))).toBeDefined()
    expect(participantOf(target, u("alice"))).toBeUndefined()
    // Before the fix, Alice was in no Space here: she had left "previous" for a Space that refused her.
    expect(participantOf(previous, u("alice"))).toBeDefined()
  })
})
