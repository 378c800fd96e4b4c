import {
  EventStore,
  type EventStoreShape,
  PostId,
  ServiceId,
  type SpaceCommand,
  SpaceId,
  Spaces,
  spacesOn,
  type UserCommand,
  UserId
} from "@spaces/domain"
import {
  Chunk,
  Clock,
  Effect,
  HashMap,
  HashSet,
  Layer,
  type Scope,
  Stream,
  TestClock,
  TestContext
} from "effect"
import fc from "fast-check"

/**
 * Generated histories for the projections' properties: COMMANDS run through the domain's
 * `Spaces` service (so every history is one the product can produce), over a world small enough
 * that people collide, join several Spaces in turn and follow each other.
 */
export const users = Array.from({ length: 7 }, (_, i) => UserId.make(`u${i}`))
export const spaceIds = Array.from({ length: 3 }, (_, i) => SpaceId.make(`s${i}`))
export const topicsUsed = ["music", "art", "technology", "news"] as const
export const titles = ["Morning show", "Jazz night", "Tech talk: AI", "Morning jazz", "Café crème"] as const
export const searches = [
  "",
  "morning",
  "MOR",
  "jazz mo",
  "tech ai",
  "caf",
  "nothing",
  "coffee",
  "jazz coffee",
  "Coffee please"
] as const
/** What speakers say in the captions of generated histories (search finds Spaces by it). */
export const saidTexts = ["Coffee, please!", "more jazz tonight", "nothing much"] as const

const MIN = 60_000

export type Step =
  | { readonly kind: "space"; readonly command: SpaceCommand }
  /** Creation with a schedule relative to the moment it runs. */
  | {
      readonly kind: "schedule"
      readonly command: SpaceCommand & { readonly _tag: "CreateSpace" }
      readonly inMs: number
    }
  | { readonly kind: "user"; readonly command: UserCommand }
  | { readonly kind: "wait"; readonly ms: number }
  /** The command, issued by the Space's host at the time it runs (random users are mostly refused). */
  | { readonly kind: "asHost"; readonly command: SpaceCommand }
  /** Accepting, by someone the Space invited at the time it runs (the `pick`-th, modulo). */
  | { readonly kind: "accept"; readonly spaceId: SpaceId; readonly cohost: boolean; readonly pick: number }
  /** Someone on stage (co-host or speaker) at the time it runs steps down to listener. */
  | { readonly kind: "stepDown"; readonly spaceId: SpaceId; readonly pick: number }

const user = fc.constantFrom(...users)
const spaceId = fc.constantFrom(...spaceIds)
const on = <T extends SpaceCommand["_tag"]>(tag: T) =>
  fc
    .record({ spaceId, by: user })
    .map((c) => ({ kind: "space", command: { _tag: tag, ...c } as SpaceCommand }) as Step)
const onUser = <T extends SpaceCommand["_tag"]>(tag: T) =>
  fc
    .record({ spaceId, by: user, user })
    .map((c) => ({ kind: "space", command: { _tag: tag, ...c } as SpaceCommand }) as Step)

const create = fc.record({
  _tag: fc.constant("CreateSpace" as const),
  spaceId,
  by: user,
  title: fc.constantFrom(...titles),
  topics: fc.subarray([...topicsUsed], { maxLength: 2 }),
  speakPolicy: fc.constantFrom("everyone" as const, "followed" as const, "invited" as const),
  recording: fc.boolean(),
  captions: fc.boolean()
})

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: create.map((command): Step => ({ kind: "space", command })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(create, fc.integer({ min: 2 * MIN, max: 3 * 60 * MIN }))
      .map(([command, inMs]): Step => ({ kind: "schedule", command, inMs }))
  },
  { weight: 12, arbitrary: on("JoinSpace") },
  { weight: 3, arbitrary: on("LeaveSpace") },
  { weight: 8, arbitrary: on("RaiseHand") },
  { weight: 1, arbitrary: on("LowerHand") },
  { weight: 10, arbitrary: onUser("ApproveSpeakRequest") },
  { weight: 1, arbitrary: onUser("DeclineSpeakRequest") },
  { weight: 8, arbitrary: onUser("InviteSpeaker") },
  { weight: 8, arbitrary: on("AcceptSpeakerInvite") },
  { weight: 1, arbitrary: on("DeclineSpeakerInvite") },
  { weight: 6, arbitrary: onUser("InviteCoHost") },
  { weight: 6, arbitrary: on("AcceptCoHostInvite") },
  { weight: 3, arbitrary: onUser("RemoveCoHost") },
  { weight: 3, arbitrary: on("StepDown") },
  { weight: 2, arbitrary: onUser("MuteSpeaker") },
  { weight: 2, arbitrary: onUser("UnmuteSpeaker") },
  { weight: 1, arbitrary: on("MuteAll") },
  { weight: 3, arbitrary: onUser("RemoveParticipant") },
  { weight: 2, arbitrary: on("StartSpace") },
  { weight: 1, arbitrary: on("CancelSpace") },
  { weight: 4, arbitrary: on("EndSpace") },
  { weight: 2, arbitrary: on("SetReminder") },
  { weight: 1, arbitrary: on("RemoveReminder") },
  {
    weight: 1,
    arbitrary: fc
      .record({ spaceId, by: user, title: fc.constantFrom(...titles), topics: fc.subarray([...topicsUsed]) })
      .map((c): Step => ({ kind: "space", command: { _tag: "EditSpace", ...c } }))
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ spaceId, by: user, captions: fc.boolean() })
      .map((c): Step => ({ kind: "space", command: { _tag: "SetCaptions", ...c } }))
  },
  {
    weight: 3,
    arbitrary: fc.record({ spaceId, speaker: user, text: fc.constantFrom(...saidTexts) }).map(
      ({ spaceId, speaker, text }): Step => ({
        kind: "space",
        command: {
          _tag: "AppendCaption",
          spaceId,
          service: ServiceId.make("transcriber"),
          segment: { speaker, text, startMs: 0, endMs: 1000 }
        }
      })
    )
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ spaceId, by: user, recording: fc.boolean() })
      .map((c): Step => ({ kind: "space", command: { _tag: "SetRecording", ...c } }))
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ spaceId, by: user, postId: fc.constantFrom("p1", "p2", "p3").map((p) => PostId.make(p)) })
      .map((c): Step => ({ kind: "space", command: { _tag: "PublishPost", ...c, text: `post ${c.postId}` } }))
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ spaceId, by: user, postId: fc.constantFrom("p1", "p2").map((p) => PostId.make(p)) })
      .map((c): Step => ({ kind: "space", command: { _tag: "PinPost", ...c } }))
  },
  {
    weight: 1,
    arbitrary: spaceId.map((id): Step => ({ kind: "space", command: { _tag: "ExpireSpace", spaceId: id } }))
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        spaceId,
        speaker: user,
        text: fc.constantFrom("hello", "yes", "and then"),
        startMs: fc.nat(60_000)
      })
      .map(
        (c): Step => ({
          kind: "space",
          command: {
            _tag: "AppendCaption",
            spaceId: c.spaceId,
            service: ServiceId.make("captioner"),
            segment: { speaker: c.speaker, text: c.text, startMs: c.startMs, endMs: c.startMs + 500 }
          }
        })
      )
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ spaceId, user })
      .map((c): Step => ({ kind: "space", command: { _tag: "DisconnectParticipant", ...c } }))
  },
  {
    weight: 1,
    arbitrary: spaceId.map(
      (id): Step => ({ kind: "space", command: { _tag: "EndAbandonedSpace", spaceId: id } })
    )
  },
  {
    weight: 16,
    arbitrary: fc
      .record({
        _tag: fc.constantFrom("Follow" as const, "Follow" as const, "Follow" as const, "Unfollow" as const),
        by: user,
        user
      })
      .map((command): Step => ({ kind: "user", command }))
  },
  {
    weight: 14,
    arbitrary: fc
      .oneof(
        onUser("ApproveSpeakRequest"),
        onUser("InviteSpeaker"),
        onUser("InviteSpeaker"),
        onUser("InviteCoHost"),
        onUser("RemoveCoHost"),
        onUser("MuteSpeaker"),
        onUser("RemoveParticipant"),
        on("MuteAll"),
        on("EndSpace"),
        on("StartSpace"),
        on("CancelSpace"),
        onUser("ApproveSpeakRequest")
      )
      .map((step): Step => (step.kind === "space" ? { kind: "asHost", command: step.command } : step))
  },
  {
    weight: 6,
    arbitrary: fc
      .record({ spaceId, cohost: fc.boolean(), pick: fc.nat(10) })
      .map((c): Step => ({ kind: "accept", ...c }))
  },
  {
    weight: 3,
    arbitrary: fc.record({ spaceId, pick: fc.nat(10) }).map((c): Step => ({ kind: "stepDown", ...c }))
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1_000, max: 70 * MIN }).map((ms): Step => ({ kind: "wait", ms }))
  }
)

/** Runs the steps through `Spaces`; rejected commands are part of life (they change nothing). */
export const runSteps = (steps: ReadonlyArray<Step>) =>
  Effect.gen(function* () {
    const spaces = yield* Spaces
    for (const step of steps) {
      switch (step.kind) {
        case "wait":
          yield* TestClock.adjust(step.ms)
          break
        case "user":
          yield* Effect.either(spaces.executeUser(step.command))
          break
        case "space":
          yield* Effect.either(spaces.execute(step.command))
          break
        case "asHost": {
          const host = (yield* spaces.space(step.command.spaceId)).host
          if (host !== null && "by" in step.command)
            yield* Effect.either(spaces.execute({ ...step.command, by: host }))
          break
        }
        case "accept": {
          const state = yield* spaces.space(step.spaceId)
          const invited = [...HashSet.values(step.cohost ? state.coHostInvites : state.speakerInvites)].sort()
          const by = invited[step.pick % Math.max(1, invited.length)]
          if (by !== undefined)
            yield* Effect.either(
              spaces.execute({
                _tag: step.cohost ? "AcceptCoHostInvite" : "AcceptSpeakerInvite",
                spaceId: step.spaceId,
                by
              })
            )
          break
        }
        case "stepDown": {
          const state = yield* spaces.space(step.spaceId)
          const onStage = [...HashMap.entries(state.participants)]
            .filter(([, p]) => p.role === "speaker" || p.role === "cohost")
            .map(([user]) => user)
            .sort()
          const by = onStage[step.pick % Math.max(1, onStage.length)]
          if (by !== undefined)
            yield* Effect.either(spaces.execute({ _tag: "StepDown", spaceId: step.spaceId, by }))
          break
        }
        case "schedule": {
          const now = yield* Clock.currentTimeMillis
          yield* Effect.either(spaces.execute({ ...step.command, scheduledFor: now + step.inMs }))
          break
        }
      }
    }
  })

/** The time every history starts at. */
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0)

/** Histories per property (`SPACES_PROPERTY_RUNS` for a longer search). */
export const propertyRuns = Number(process.env.SPACES_PROPERTY_RUNS ?? 60)

/** Checks a property over random histories, each run scoped and on the test clock. */
export const checkHistories = (
  histories: fc.Arbitrary<ReadonlyArray<Step>>,
  property: (steps: ReadonlyArray<Step>) => Effect.Effect<void, unknown, Scope.Scope>
) =>
  fc.assert(
    fc.asyncProperty(histories, (steps) =>
      Effect.runPromise(Effect.scoped(property(steps)).pipe(Effect.provide(TestContext.TestContext)))
    ),
    { numRuns: propertyRuns }
  )

/** Runs the history's commands on `store` (its clock set to T0 first); the whole log written. */
export const writeHistory = (steps: ReadonlyArray<Step>, store: EventStoreShape) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(T0)
    yield* runSteps(steps).pipe(Effect.provide(spacesOn(Layer.succeed(EventStore, store))))
    return Chunk.toReadonlyArray(yield* Stream.runCollect(store.readAll(0)))
  })
