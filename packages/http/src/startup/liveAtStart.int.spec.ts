import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  EventStore,
  type EventStoreShape,
  LogFollowerLive,
  SpaceId,
  Spaces,
  spacesOn,
  UserId
} from "@spaces/domain"
import { makeSqliteEventStore } from "@spaces/eventstore"
import { MediaInstruction } from "@spaces/media"
import { ReadModels, ReadModelsLive } from "@spaces/projections"
import { Chunk, Effect, Layer, Queue } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { makeLogger } from "../log.js"
import { followLogIntoMedia } from "../media/glue.js"
import { readLiveAtStart } from "./liveAtStart.js"

const dir = mkdtempSync(join(tmpdir(), "spaces-start-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const hana = UserId.make("hana")
const lee = UserId.make("lee")
const kim = UserId.make("kim")
const [s1, s2, s3] = ["s1", "s2", "s3"].map((id) => SpaceId.make(id)) as [SpaceId, SpaceId, SpaceId]

/** The store on the log file, noting where every read of the global log starts. */
const storeLayer = (reads: Array<number>) =>
  Layer.scoped(
    EventStore,
    Effect.acquireRelease(
      Effect.sync(() => makeSqliteEventStore({ path: join(dir, "log.sqlite") })),
      (store) => Effect.sync(store.close)
    ).pipe(
      Effect.map(
        (store): EventStoreShape => ({
          ...store,
          readAll: (from) => {
            reads.push(from)
            return store.readAll(from)
          },
          subscribeAll: (from) => {
            reads.push(from)
            return store.subscribeAll(from)
          }
        })
      )
    )
  )

/** A server's core over the two files: domain, one log follower, read models in SQLite. */
const server = (reads: Array<number>) =>
  ReadModelsLive.sqlite({ path: join(dir, "views.sqlite") }).pipe(
    Layer.provideMerge(LogFollowerLive),
    Layer.provideMerge(spacesOn(storeLayer(reads)))
  )

const create = (spaceId: SpaceId, by: UserId, recording: boolean) =>
  Effect.flatMap(Spaces, (spaces) =>
    spaces.execute({
      _tag: "CreateSpace",
      spaceId,
      by,
      title: "Start-up",
      topics: [],
      speakPolicy: "everyone",
      recording,
      captions: false
    })
  )

describe("start-up from the rooms view", () => {
  it("after a restart, reopens the live rooms the view lists and follows the log from its checkpoint, never from 0", async () => {
    // First run: two live Spaces (one recorded, with a listener), one ended.
    const end = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* create(s1, hana, true)
          yield* create(s2, lee, false)
          yield* create(s3, kim, false)
          const spaces = yield* Spaces
          yield* spaces.execute({ _tag: "JoinSpace", spaceId: s1, by: kim })
          const { position: end } = yield* spaces.execute({ _tag: "EndSpace", spaceId: s3, by: kim })
          // Every view caught up with the log's end (the last command's position), so that all of
          // the next run's reads start at the same checkpoint.
          const models = yield* ReadModels
          const views = [
            "feed",
            "topic",
            "search",
            "creator",
            "room",
            "reminders",
            "due",
            "notifications"
          ] as const
          for (const view of views) expect(yield* models.awaitPosition(view, end)).toBe(true)
          return end
        }).pipe(Effect.provide(server([])))
      )
    )
    expect(end).toBeGreaterThan(0)

    // Second run on the same files.
    const reads: Array<number> = []
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const start = yield* readLiveAtStart
          expect(start.position).toBe(end)
          expect([...start.live].sort((a, b) => (a.spaceId < b.spaceId ? -1 : 1))).toEqual([
            {
              spaceId: s1,
              recording: true,
              captions: false,
              startedAt: expect.any(Number),
              participants: [hana, kim]
            },
            {
              spaceId: s2,
              recording: false,
              captions: false,
              startedAt: expect.any(Number),
              participants: [lee]
            }
          ])
          const orders = yield* Queue.unbounded<MediaInstruction>()
          yield* Effect.forkScoped(
            followLogIntoMedia(
              { apply: (order) => Queue.offer(orders, order) },
              Effect.succeed(start),
              makeLogger("silent")
            )
          )
          const next = (n: number) =>
            Queue.takeN(orders, n).pipe(Effect.map(Chunk.toReadonlyArray), Effect.timeout("10 seconds"))
          expect(new Set(yield* next(2))).toEqual(
            new Set([
              MediaInstruction.SpaceStarted({ spaceId: s1, recording: true }),
              MediaInstruction.SpaceStarted({ spaceId: s2, recording: false })
            ])
          )
          // What comes after the start reaches the media plane through the follower.
          yield* Effect.flatMap(Spaces, (spaces) =>
            spaces.execute({ _tag: "EndSpace", spaceId: s2, by: lee })
          )
          expect(yield* next(1)).toEqual([MediaInstruction.SpaceEnded({ spaceId: s2 })])
        }).pipe(Effect.provide(server(reads)))
      )
    )
    // Every read of the global log started at the checkpoint the views had stored: no scan from 0.
    expect(reads.length).toBeGreaterThan(0)
    expect(Math.min(...reads)).toBe(end)
  }, 60_000)
})
