import fc from "fast-check"
import { PostId, ServiceId, SpaceId, UserId } from "../ids.js"
import type { SpaceCommand, SpaceCommandOf } from "../space/SpaceCommand.js"
import type { UserCommand } from "../user/User.js"

/** A small world, so that generated commands collide often: that is where rules bite. */
export const users = Array.from({ length: 8 }, (_, i) => UserId.make(`u${i}`))
export const spaceIds = Array.from({ length: 3 }, (_, i) => SpaceId.make(`s${i}`))

const userArb = fc.constantFrom(...users)
const spaceArb = fc.constantFrom(...spaceIds)
const topicsArb = fc.subarray(["music", "art", "technology", "news", "Music", "nonsense"], { maxLength: 4 })
const policyArb = fc.constantFrom("everyone" as const, "followed" as const, "invited" as const)
const MIN = 60_000

/** One step of a generated history: a command, or time passing. */
export type Step =
  | { readonly kind: "space"; readonly command: SpaceCommand }
  /** Creating or rescheduling for `inMs` after the clock's time when the step runs. */
  | {
      readonly kind: "schedule"
      readonly command:
        | Omit<SpaceCommandOf<"CreateSpace">, "scheduledFor">
        | Omit<SpaceCommandOf<"RescheduleSpace">, "scheduledFor">
      readonly inMs: number
    }
  | { readonly kind: "user"; readonly command: UserCommand }
  | { readonly kind: "wait"; readonly ms: number }

/**
 * A scheduled time relative to the step's clock (an absolute one would be out of range at T0);
 * mostly soon, so that histories reach the expiry deadline.
 */
const leadArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -MIN, max: 10 * MIN }) },
  { weight: 1, arbitrary: fc.integer({ min: 10 * MIN, max: 3 * 60 * MIN }) }
)

const space = (command: fc.Arbitrary<SpaceCommand>) =>
  command.map((c): Step => ({ kind: "space", command: c }))
const byOn = <T extends string>(tag: T) =>
  fc.record({ _tag: fc.constant(tag), spaceId: spaceArb, by: userArb })
const byOnUser = <T extends string>(tag: T) =>
  fc.record({ _tag: fc.constant(tag), spaceId: spaceArb, by: userArb, user: userArb })

/** Every command of the product, with a bias towards the ones that change who is where. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: space(
      fc
        .record({
          _tag: fc.constant("CreateSpace" as const),
          spaceId: spaceArb,
          by: userArb,
          title: fc.oneof(fc.constant("A Space"), fc.string({ maxLength: 80 })),
          topics: topicsArb,
          speakPolicy: policyArb,
          recording: fc.boolean(),
          captions: fc.boolean()
        })
        .map((c) => c as SpaceCommand)
    )
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        command: fc.record({
          _tag: fc.constant("CreateSpace" as const),
          spaceId: spaceArb,
          by: userArb,
          title: fc.constant("A scheduled Space"),
          topics: topicsArb,
          speakPolicy: policyArb,
          recording: fc.boolean(),
          captions: fc.boolean()
        }),
        inMs: leadArb
      })
      .map(
        ({ command, inMs }): Step => ({
          kind: "schedule",
          command: command as Omit<SpaceCommandOf<"CreateSpace">, "scheduledFor">,
          inMs
        })
      )
  },
  {
    weight: 1,
    arbitrary: fc.record({ command: byOn("RescheduleSpace"), inMs: leadArb }).map(
      ({ command, inMs }): Step => ({
        kind: "schedule",
        command: command as Omit<SpaceCommandOf<"RescheduleSpace">, "scheduledFor">,
        inMs
      })
    )
  },
  { weight: 10, arbitrary: space(byOn("JoinSpace") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOn("LeaveSpace") as fc.Arbitrary<SpaceCommand>) },
  { weight: 5, arbitrary: space(byOn("RaiseHand") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("LowerHand") as fc.Arbitrary<SpaceCommand>) },
  { weight: 5, arbitrary: space(byOnUser("ApproveSpeakRequest") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOnUser("DeclineSpeakRequest") as fc.Arbitrary<SpaceCommand>) },
  { weight: 4, arbitrary: space(byOnUser("InviteSpeaker") as fc.Arbitrary<SpaceCommand>) },
  { weight: 4, arbitrary: space(byOn("AcceptSpeakerInvite") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("DeclineSpeakerInvite") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOnUser("InviteCoHost") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOn("AcceptCoHostInvite") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("DeclineCoHostInvite") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOnUser("RemoveCoHost") as fc.Arbitrary<SpaceCommand>) },
  { weight: 2, arbitrary: space(byOn("StepDown") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOnUser("MuteSpeaker") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOnUser("UnmuteSpeaker") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("MuteAll") as fc.Arbitrary<SpaceCommand>) },
  { weight: 3, arbitrary: space(byOnUser("RemoveParticipant") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("StartSpace") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("CancelSpace") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("EndSpace") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("SetReminder") as fc.Arbitrary<SpaceCommand>) },
  { weight: 1, arbitrary: space(byOn("RemoveReminder") as fc.Arbitrary<SpaceCommand>) },
  {
    weight: 1,
    arbitrary: space(
      fc.record({
        _tag: fc.constant("EditSpace" as const),
        spaceId: spaceArb,
        by: userArb,
        title: fc.constant("Renamed")
      })
    )
  },
  {
    weight: 1,
    arbitrary: space(
      fc.record({
        _tag: fc.constant("ChangeSpeakPolicy" as const),
        spaceId: spaceArb,
        by: userArb,
        speakPolicy: policyArb
      })
    )
  },
  {
    weight: 1,
    arbitrary: space(
      fc.record({
        _tag: fc.constant("PublishPost" as const),
        spaceId: spaceArb,
        by: userArb,
        postId: fc.constantFrom("p1", "p2").map((p) => PostId.make(p)),
        text: fc.string({ maxLength: 300 })
      })
    )
  },
  {
    weight: 1,
    arbitrary: space(
      fc.record({
        _tag: fc.constant("PinPost" as const),
        spaceId: spaceArb,
        by: userArb,
        postId: fc.constantFrom("p1", "p2").map((p) => PostId.make(p))
      })
    )
  },
  {
    weight: 1,
    arbitrary: space(
      fc.record({
        _tag: fc.constant("AppendCaption" as const),
        spaceId: spaceArb,
        service: fc.constant(ServiceId.make("transcriber")),
        segment: fc.record({
          speaker: userArb,
          text: fc.string({ maxLength: 20 }),
          startMs: fc.nat(5000),
          endMs: fc.nat(5000)
        })
      })
    )
  },
  {
    weight: 1,
    arbitrary: space(fc.record({ _tag: fc.constant("ExpireSpace" as const), spaceId: spaceArb }))
  },
  {
    weight: 1,
    arbitrary: space(fc.record({ _tag: fc.constant("EndAbandonedSpace" as const), spaceId: spaceArb }))
  },
  {
    weight: 2,
    arbitrary: space(
      fc.record({ _tag: fc.constant("DisconnectParticipant" as const), spaceId: spaceArb, user: userArb })
    )
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ _tag: fc.constantFrom("Follow" as const, "Unfollow" as const), by: userArb, user: userArb })
      .map((command): Step => ({ kind: "user", command }))
  },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 * MIN }).map((ms): Step => ({ kind: "wait", ms })) },
  // Hours pass without the scheduler acting (it is late, or down): deadlines go by.
  {
    weight: 2,
    arbitrary: fc.integer({ min: 40 * MIN, max: 3 * 60 * MIN }).map((ms): Step => ({ kind: "wait", ms }))
  }
)

/** The number of generated sequences per property: 1,000 by default, more with SPACES_PROPERTY_RUNS. */
export const propertyRuns = () => Number(process.env.SPACES_PROPERTY_RUNS ?? 1000)
