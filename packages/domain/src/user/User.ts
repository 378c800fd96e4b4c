import { Effect, HashSet, Schema } from "effect"
import type { Decider } from "../Decider.js"
import { SpaceId, UserId } from "../ids.js"
import type { RuleKind } from "../space/SpaceError.js"
import { Timestamp } from "../space/SpaceValues.js"

/**
 * A user's own stream (`user-<id>`): whom they follow (the follow graph is event-sourced, one
 * edge in the follower's stream), and the pointers that keep cross-Space rules: the Space they
 * last entered and the Space they last started hosting. Pointers may go stale (a Space ends);
 * the handler checks them against the Space's own state, so a stale pointer never blocks anyone.
 */
export const Follow = Schema.TaggedStruct("Follow", { by: UserId, user: UserId })
export const Unfollow = Schema.TaggedStruct("Unfollow", { by: UserId, user: UserId })
/** Internal: recorded before the user is admitted to a Space (see `handler/presence.ts`). */
export const EnterSpace = Schema.TaggedStruct("EnterSpace", {
  user: UserId,
  spaceId: SpaceId,
  hosting: Schema.Boolean
})
/** Notifications up to `upTo` (a notification id, see the notifications read model) are read. */
export const MarkNotificationsRead = Schema.TaggedStruct("MarkNotificationsRead", {
  by: UserId,
  upTo: Schema.Int.pipe(Schema.between(0, Number.MAX_SAFE_INTEGER))
})
/** A Web Push subscription (RFC 8030 endpoint, RFC 8291 keys) of one of the user's browsers. */
export const PushSubscription = Schema.Struct({
  endpoint: Schema.String.pipe(Schema.pattern(/^https?:\/\/\S+$/), Schema.maxLength(2_048)),
  /** The browser's P-256 public key, base64url (uncompressed point, 65 bytes). */
  p256dh: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{86,88}={0,2}$/)),
  /** The browser's 16-byte authentication secret, base64url. */
  auth: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{21,24}={0,2}$/))
})
export type PushSubscription = typeof PushSubscription.Type
export const SubscribePush = Schema.TaggedStruct("SubscribePush", { by: UserId, ...PushSubscription.fields })
export const UnsubscribePush = Schema.TaggedStruct("UnsubscribePush", {
  by: UserId,
  endpoint: PushSubscription.fields.endpoint
})
export const UserCommand = Schema.Union(
  Follow,
  Unfollow,
  EnterSpace,
  MarkNotificationsRead,
  SubscribePush,
  UnsubscribePush
)
export type UserCommand = typeof UserCommand.Type

export const UserFollowed = Schema.TaggedStruct("UserFollowed", {
  user: UserId,
  followee: UserId,
  at: Timestamp
})
export const UserUnfollowed = Schema.TaggedStruct("UserUnfollowed", {
  user: UserId,
  followee: UserId,
  at: Timestamp
})
export const SpaceEntered = Schema.TaggedStruct("SpaceEntered", {
  user: UserId,
  spaceId: SpaceId,
  previous: Schema.NullOr(SpaceId),
  hosting: Schema.Boolean,
  at: Timestamp
})
export const NotificationsRead = Schema.TaggedStruct("NotificationsRead", {
  user: UserId,
  upTo: Schema.Int,
  at: Timestamp
})
export const PushSubscribed = Schema.TaggedStruct("PushSubscribed", {
  user: UserId,
  ...PushSubscription.fields,
  at: Timestamp
})
export const PushUnsubscribed = Schema.TaggedStruct("PushUnsubscribed", {
  user: UserId,
  endpoint: Schema.String,
  at: Timestamp
})
export const UserEvent = Schema.Union(
  UserFollowed,
  UserUnfollowed,
  SpaceEntered,
  NotificationsRead,
  PushSubscribed,
  PushUnsubscribed
)
export type UserEvent = typeof UserEvent.Type

export const UserState = Schema.Struct({
  follows: Schema.HashSet(UserId),
  presence: Schema.NullOr(SpaceId),
  hosting: Schema.NullOr(SpaceId),
  /** The newest notification id marked read (0: none). */
  notificationsReadUpTo: Schema.Int,
  /** Endpoints of the user's Web Push subscriptions. */
  pushEndpoints: Schema.HashSet(Schema.String)
})
export type UserState = typeof UserState.Type

export const initialUserState: UserState = {
  follows: HashSet.empty(),
  presence: null,
  hosting: null,
  notificationsReadUpTo: 0,
  pushEndpoints: HashSet.empty()
}

export class CannotFollowSelf extends Schema.TaggedError<CannotFollowSelf>()("CannotFollowSelf", {
  user: UserId
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return "a user can't follow themselves"
  }
}

/** A user hosts at most one live Space at a time. */
export class AlreadyHostingLiveSpace extends Schema.TaggedError<AlreadyHostingLiveSpace>()(
  "AlreadyHostingLiveSpace",
  { user: UserId, spaceId: SpaceId }
) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} already hosts the live Space ${this.spaceId}; a user hosts one live Space at a time`
  }
}

export type UserError = CannotFollowSelf | AlreadyHostingLiveSpace

export interface UserContext {
  readonly now: number
  /** Is this Space live right now? (Checks the `hosting` pointer against the Space's state.) */
  readonly isLive: (spaceId: SpaceId) => boolean
}

export const evolveUser = (state: UserState, event: UserEvent): UserState => {
  switch (event._tag) {
    case "UserFollowed":
      return { ...state, follows: HashSet.add(state.follows, event.followee) }
    case "UserUnfollowed":
      return { ...state, follows: HashSet.remove(state.follows, event.followee) }
    case "SpaceEntered":
      return { ...state, presence: event.spaceId, hosting: event.hosting ? event.spaceId : state.hosting }
    case "NotificationsRead":
      return { ...state, notificationsReadUpTo: Math.max(state.notificationsReadUpTo, event.upTo) }
    case "PushSubscribed":
      return { ...state, pushEndpoints: HashSet.add(state.pushEndpoints, event.endpoint) }
    case "PushUnsubscribed":
      return { ...state, pushEndpoints: HashSet.remove(state.pushEndpoints, event.endpoint) }
  }
}

export const decideUser = (
  command: UserCommand,
  state: UserState,
  { now, isLive }: UserContext
): Effect.Effect<ReadonlyArray<UserEvent>, UserError> => {
  switch (command._tag) {
    case "Follow":
      if (command.by === command.user) return Effect.fail(new CannotFollowSelf({ user: command.by }))
      return Effect.succeed(
        HashSet.has(state.follows, command.user)
          ? []
          : [{ _tag: "UserFollowed", user: command.by, followee: command.user, at: now }]
      )
    case "Unfollow":
      return Effect.succeed(
        HashSet.has(state.follows, command.user)
          ? [{ _tag: "UserUnfollowed", user: command.by, followee: command.user, at: now }]
          : []
      )
    case "EnterSpace": {
      const { hosting } = state
      if (command.hosting && hosting !== null && hosting !== command.spaceId && isLive(hosting))
        return Effect.fail(new AlreadyHostingLiveSpace({ user: command.user, spaceId: hosting }))
      // Entering the Space the stream already names (back after leaving it) is recorded too: every
      // admission then appends to the user's stream at the revision read, which fences it against
      // a concurrent move of the same user made elsewhere.
      return Effect.succeed([
        {
          _tag: "SpaceEntered",
          user: command.user,
          spaceId: command.spaceId,
          previous: state.presence,
          hosting: command.hosting,
          at: now
        }
      ])
    }
    case "MarkNotificationsRead":
      // Read marks only move forward: an older mark (another tab, a retry) changes nothing.
      return Effect.succeed(
        command.upTo <= state.notificationsReadUpTo
          ? []
          : [{ _tag: "NotificationsRead", user: command.by, upTo: command.upTo, at: now }]
      )
    case "SubscribePush": {
      const { by, endpoint, p256dh, auth } = command
      // Re-subscribing an endpoint records its (possibly new) keys.
      return Effect.succeed([{ _tag: "PushSubscribed", user: by, endpoint, p256dh, auth, at: now }])
    }
    case "UnsubscribePush":
      return Effect.succeed(
        HashSet.has(state.pushEndpoints, command.endpoint)
          ? [{ _tag: "PushUnsubscribed", user: command.by, endpoint: command.endpoint, at: now }]
          : []
      )
  }
}

export const UserDecider: Decider<UserCommand, UserEvent, UserState, UserContext, UserError> = {
  decide: decideUser,
  evolve: evolveUser,
  initialState: initialUserState
}
