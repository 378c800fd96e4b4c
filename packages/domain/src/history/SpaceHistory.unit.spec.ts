import { Effect, HashMap, TestClock, TestContext, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { SpaceId, UserId } from "../ids.js"
import { InMemorySpaces } from "../layers.js"
import { Spaces } from "../handler/Spaces.js"
import { spaceAsOf, spaceLog } from "./SpaceHistory.js"

const a = SpaceId.make("a")
const u = (n: string) => UserId.make(n)

describe("history and replay", () => {
  it("rebuilds a Space as of any position or time, from its events alone", async () => {
    await Effect.runPromise(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* TestClock.setTime(1_000_000)
        yield* spaces.execute({
          _tag: "CreateSpace",
          spaceId: a,
          by: u("hana"),
          title: "Replayable",
          topics: [],
          speakPolicy: "everyone",
          recording: true,
          captions: false
        })
        yield* TestClock.adjust(60_000)
        const joined = yield* spaces.execute({ _tag: "JoinSpace", spaceId: a, by: u("lee") })
        yield* TestClock.adjust(60_000)
        yield* spaces.execute({ _tag: "EndSpace", spaceId: a, by: u("hana") })

        const log = yield* spaceLog(a)
        expect(log.map((e) => e.event._tag)).toEqual([
          "SpaceCreated",
          "SpaceStarted",
          "ListenerJoined",
          "SpaceEnded"
        ])
        expect(log.map((e) => e.revision)).toEqual([0, 1, 2, 3])

        const atJoin = yield* spaceAsOf(a, { position: joined.position })
        expect(atJoin.state.status).toBe("live")
        expect(HashMap.has(atJoin.state.participants, u("lee"))).toBe(true)
        expect(atJoin.revision).toBe(2)

        const beforeJoin = yield* spaceAsOf(a, { time: 1_000_000 + 59_999 })
        expect(beforeJoin.state.status).toBe("live")
        expect(HashMap.has(beforeJoin.state.participants, u("lee"))).toBe(false)

        expect((yield* spaceAsOf(a, { time: 2_000_000 })).state.status).toBe("ended")
        expect((yield* spaceAsOf(a, { position: 0 })).state.status).toBe("none")
      }).pipe(Effect.provide(Layer.merge(InMemorySpaces(), TestContext.TestContext)))
    )
  })
})
