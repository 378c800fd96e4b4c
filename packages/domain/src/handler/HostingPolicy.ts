import { Context, Effect, Layer, Schema, Stream } from "effect"
import { EventStore, type ReadError } from "../eventstore/EventStore.js"
import { UserId } from "../ids.js"
import { Rules } from "../rules/RoomRules.js"
import type { RuleKind } from "../space/SpaceError.js"

export class HostingNotAllowed extends Schema.TaggedError<HostingNotAllowed>()("HostingNotAllowed", {
  user: UserId,
  followers: Schema.Int,
  minFollowers: Schema.Int
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `hosting needs ${this.minFollowers} followers; ${this.user} has ${this.followers}`
  }
}

/** How many followers a user has: a read model in production, a scan of the log when embedded. */
export class FollowerCounts extends Context.Tag("@spaces/domain/FollowerCounts")<
  FollowerCounts,
  { readonly followers: (user: UserId) => Effect.Effect<number, ReadError> }
>() {
  /** Counts by folding the whole log: correct and simple, for tests and small embedded uses. */
  static readonly fromLog = Layer.effect(
    FollowerCounts,
    Effect.map(EventStore, (store) => ({
      followers: (user: UserId) =>
        store.readAll(0).pipe(
          Stream.runFold(new Set<string>(), (followers, event) => {
            const data = event.data as { readonly user?: string; readonly followee?: string }
            if (data.followee !== user || data.user === undefined) return followers
            if (event.type === "UserFollowed") followers.add(data.user)
            if (event.type === "UserUnfollowed") followers.delete(data.user)
            return followers
          }),
          Effect.map((followers) => followers.size)
        )
    }))
  )
}

/** Who may host: a pluggable rule (SPEC: "anyone can host", or a follower threshold). */
export class HostingPolicy extends Context.Tag("@spaces/domain/HostingPolicy")<
  HostingPolicy,
  { readonly check: (user: UserId) => Effect.Effect<void, HostingNotAllowed | ReadError> }
>() {
  static readonly anyone = Layer.succeed(HostingPolicy, { check: () => Effect.void })

  static readonly minFollowers = (minFollowers: number) =>
    Layer.effect(
      HostingPolicy,
      Effect.map(FollowerCounts, (counts) => ({
        check: (user: UserId) =>
          Effect.flatMap(counts.followers(user), (followers) =>
            followers >= minFollowers
              ? Effect.void
              : Effect.fail(new HostingNotAllowed({ user, followers, minFollowers }))
          )
      }))
    )

  /** The policy the rules ask for: nobody is counted when anyone may host. */
  static readonly fromRules = Layer.unwrapEffect(
    Effect.map(Rules, (rules) =>
      rules.minFollowersToHost === 0
        ? HostingPolicy.anyone
        : HostingPolicy.minFollowers(rules.minFollowersToHost)
    )
  )
}
