import { InMemorySpaces, LogFollowerLive, SpaceId, Spaces, UserId } from "@spaces/domain"
import { MediaInstruction } from "@spaces/media"
import { ReadModelsLive } from "@spaces/projections"
import { Chunk, Effect, Layer, Queue } from "effect"
import { describe, expect, it } from "vitest"
import { makeLogger } from "../log.js"
import { readLiveAtStart } from "../startup/liveAtStart.js"
import { followLogIntoMedia } from "./glue.js"

const spaceId = SpaceId.make("glue")
const hana = UserId.make("hana")
const lee = UserId.make("lee")
const I = MediaInstruction

describe("the media glue", () => {
  it("reopens live rooms at startup and turns every later mute, unmute, removal and end into an order", async () => {
    await Effect.runPromise(
      Effect.gen(function* () {
        const spaces = yield* Spaces
        yield* spaces.execute({
          _tag: "CreateSpace",
          spaceId,
          by: hana,
          title: "Glue",
          topics: [],
          speakPolicy: "everyone",
          recording: false,
          captions: false
        })
        yield* spaces.execute({ _tag: "JoinSpace", spaceId, by: lee })

        // The server restarts here: what is live comes from the rooms view (caught up), the rest
        // from the log follower after the view's position.
        const received = yield* Queue.unbounded<MediaInstruction>()
        const views = yield* Layer.build(ReadModelsLive.memory().pipe(Layer.provideMerge(LogFollowerLive)))
        yield* Effect.forkScoped(
          followLogIntoMedia(
            { apply: (order) => Queue.offer(received, order) },
            Effect.provide(readLiveAtStart, views),
            makeLogger("silent")
          ).pipe(Effect.provide(views))
        )

        const next = (n: number) =>
          Queue.takeN(received, n).pipe(Effect.map(Chunk.toReadonlyArray), Effect.timeout("5 seconds"))
        expect(yield* next(1)).toEqual([I.SpaceStarted({ spaceId, recording: false })])

        yield* spaces.execute({ _tag: "RaiseHand", spaceId, by: lee })
        yield* spaces.execute({ _tag: "ApproveSpeakRequest", spaceId, by: hana, user: lee })
        yield* spaces.execute({ _tag: "UnmuteSpeaker", spaceId, by: lee, user: lee })
        yield* spaces.execute({ _tag: "MuteSpeaker", spaceId, by: hana, user: lee })
        yield* spaces.execute({ _tag: "UnmuteSpeaker", spaceId, by: lee, user: lee })
        expect(yield* next(3)).toEqual([
          I.SpeakerUnmuted({ spaceId, userId: lee }),
          I.SpeakerMuted({ spaceId, userId: lee }),
          I.SpeakerUnmuted({ spaceId, userId: lee })
        ])
        // Mute-all names the speakers of the state it reads, so it is checked before anyone leaves.
        yield* spaces.execute({ _tag: "MuteAll", spaceId, by: hana })
        expect(yield* next(1)).toEqual([I.SpeakerMuted({ spaceId, userId: lee })])

        yield* spaces.execute({ _tag: "RemoveParticipant", spaceId, by: hana, user: lee })
        yield* spaces.execute({ _tag: "EndSpace", spaceId, by: hana })
        expect(yield* next(2)).toEqual([
          I.ParticipantRemoved({ spaceId, userId: lee }),
          I.SpaceEnded({ spaceId })
        ])
      }).pipe(Effect.scoped, Effect.provide(InMemorySpaces()))
    )
  })
})
