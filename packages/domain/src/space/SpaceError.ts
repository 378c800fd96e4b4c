import { Schema } from "effect"
import { PostId, Role, SpaceId, SpeakPolicy, UserId } from "./SpaceValues.js"
import { EndReason, SpaceStatus } from "./SpaceState.js"
import { TextRule } from "./text.js"

/**
 * What kind of rule a rejection broke. Ports map kinds to their own vocabulary (HTTP statuses)
 * without knowing every error.
 */
export type RuleKind = "not_found" | "permission" | "state" | "limit" | "invalid"

/** Who the actor is in the Space, for permission errors. */
export const Standing = Schema.Literal(
  "host",
  "cohost",
  "speaker",
  "listener",
  "outsider",
  "removed",
  "system"
)
export type Standing = typeof Standing.Type

export class SpaceNotFound extends Schema.TaggedError<SpaceNotFound>()("SpaceNotFound", {
  spaceId: SpaceId
}) {
  readonly kind: RuleKind = "not_found"
  override get message() {
    return `Space ${this.spaceId} does not exist`
  }
}

export class SpaceAlreadyExists extends Schema.TaggedError<SpaceAlreadyExists>()("SpaceAlreadyExists", {
  spaceId: SpaceId
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `Space ${this.spaceId} already exists`
  }
}

/** Ended is terminal: every later command is rejected with this. */
export class SpaceHasEnded extends Schema.TaggedError<SpaceHasEnded>()("SpaceHasEnded", {
  spaceId: SpaceId,
  reason: EndReason
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `Space ${this.spaceId} has ended (${this.reason}); nothing can change it`
  }
}

export class WrongSpaceStatus extends Schema.TaggedError<WrongSpaceStatus>()("WrongSpaceStatus", {
  spaceId: SpaceId,
  status: SpaceStatus,
  required: Schema.Literal("scheduled", "live", "scheduled or live")
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `Space ${this.spaceId} is ${this.status}; this needs it ${this.required}`
  }
}

export class NotPermitted extends Schema.TaggedError<NotPermitted>()("NotPermitted", {
  action: Schema.String,
  standing: Standing,
  /** The rule, in the SPEC's words. */
  rule: Schema.String
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `${this.action} is not permitted for a ${this.standing}: ${this.rule}`
  }
}

export class BannedFromSpace extends Schema.TaggedError<BannedFromSpace>()("BannedFromSpace", {
  spaceId: SpaceId,
  user: UserId
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `${this.user} was removed from Space ${this.spaceId} and can't rejoin, request or be invited`
  }
}

export class NotInSpace extends Schema.TaggedError<NotInSpace>()("NotInSpace", {
  spaceId: SpaceId,
  user: UserId
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} is not in Space ${this.spaceId}`
  }
}

export class NotASpeaker extends Schema.TaggedError<NotASpeaker>()("NotASpeaker", {
  user: UserId,
  role: Role
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} is a ${this.role}, not a speaker`
  }
}

export class AlreadySpeaking extends Schema.TaggedError<AlreadySpeaking>()("AlreadySpeaking", {
  user: UserId,
  role: Role
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} already speaks (as ${this.role})`
  }
}

export class SpeakerLimitReached extends Schema.TaggedError<SpeakerLimitReached>()("SpeakerLimitReached", {
  limit: Schema.Int
}) {
  readonly kind: RuleKind = "limit"
  override get message() {
    return `the Space already has ${this.limit} speakers (host and co-hosts included), the most allowed`
  }
}

export class CoHostLimitReached extends Schema.TaggedError<CoHostLimitReached>()("CoHostLimitReached", {
  limit: Schema.Int
}) {
  readonly kind: RuleKind = "limit"
  override get message() {
    return `the Space already has ${this.limit} co-hosts, the most allowed`
  }
}

export class ListenerLimitReached extends Schema.TaggedError<ListenerLimitReached>()("ListenerLimitReached", {
  limit: Schema.Int
}) {
  readonly kind: RuleKind = "limit"
  override get message() {
    return `the Space already has ${this.limit} listeners, the most allowed`
  }
}

export class SpeakRequestsNotAllowed extends Schema.TaggedError<SpeakRequestsNotAllowed>()(
  "SpeakRequestsNotAllowed",
  { policy: SpeakPolicy, user: UserId }
) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return this.policy === "invited"
      ? "this Space takes no requests to speak: speakers are invited"
      : `only people the host follows may request to speak, and the host does not follow ${this.user}`
  }
}

export class NoPendingRequest extends Schema.TaggedError<NoPendingRequest>()("NoPendingRequest", {
  user: UserId,
  what: Schema.Literal("speak request", "speaker invitation", "co-host invitation")
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} has no pending ${this.what}`
  }
}

export class CannotTargetHost extends Schema.TaggedError<CannotTargetHost>()("CannotTargetHost", {
  action: Schema.String
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `${this.action} can't target the host`
  }
}

export class OnlySpeakerCanUnmute extends Schema.TaggedError<OnlySpeakerCanUnmute>()("OnlySpeakerCanUnmute", {
  user: UserId
}) {
  readonly kind: RuleKind = "permission"
  override get message() {
    return `only ${this.user} can unmute themselves`
  }
}

/** A title breaks a text rule (`rule` names it: see `checkText`). */
export class InvalidTitle extends Schema.TaggedError<InvalidTitle>()("InvalidTitle", {
  rule: TextRule,
  reason: Schema.String,
  maxLength: Schema.Int
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `invalid title: ${this.reason} (1-${this.maxLength} visible characters, no control characters or bidirectional controls)`
  }
}

export class InvalidTopics extends Schema.TaggedError<InvalidTopics>()("InvalidTopics", {
  reason: Schema.String,
  maxTopics: Schema.Int
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `invalid topics: ${this.reason} (0-${this.maxTopics} from the topic catalogue)`
  }
}

export class ScheduleOutOfRange extends Schema.TaggedError<ScheduleOutOfRange>()("ScheduleOutOfRange", {
  requested: Schema.Number,
  earliest: Schema.Number,
  latest: Schema.Number
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `a Space can be scheduled between ${new Date(this.earliest).toISOString()} and ${new Date(this.latest).toISOString()}`
  }
}

/** A post's text breaks a text rule (`rule` names it: see `checkText`). */
export class InvalidPost extends Schema.TaggedError<InvalidPost>()("InvalidPost", {
  rule: TextRule,
  reason: Schema.String,
  maxLength: Schema.Int
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `invalid post: ${this.reason} (1-${this.maxLength} visible characters, no control characters but line breaks and tabs, no bidirectional controls)`
  }
}

export class PostNotFound extends Schema.TaggedError<PostNotFound>()("PostNotFound", { postId: PostId }) {
  readonly kind: RuleKind = "not_found"
  override get message() {
    return `post ${this.postId} is not a post about this Space`
  }
}

export class PostAlreadyExists extends Schema.TaggedError<PostAlreadyExists>()("PostAlreadyExists", {
  postId: PostId
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `post ${this.postId} already exists`
  }
}

export class CaptionsOff extends Schema.TaggedError<CaptionsOff>()("CaptionsOff", { spaceId: SpaceId }) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `captions are off in Space ${this.spaceId}`
  }
}

export class InvalidCaption extends Schema.TaggedError<InvalidCaption>()("InvalidCaption", {
  reason: Schema.String
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `invalid caption segment: ${this.reason}`
  }
}

/** A clock-driven system command arrived before its time. */
export class NotDueYet extends Schema.TaggedError<NotDueYet>()("NotDueYet", {
  action: Schema.String,
  dueAt: Schema.Number
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.action} is not due until ${new Date(this.dueAt).toISOString()}`
  }
}

/** "1 hour", "90 minutes", "45 seconds": whole units for messages. */
const duration = (ms: number) => {
  const [amount, unit] =
    ms % 3_600_000 === 0
      ? [ms / 3_600_000, "hour"]
      : ms % 60_000 === 0
        ? [ms / 60_000, "minute"]
        : [ms / 1000, "second"]
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`
}

/**
 * A scheduled Space past its deadline (`scheduledFor + scheduledExpiryMs`) is expired even if the
 * scheduler has not recorded it yet: a late clock must not let the host revive it.
 */
export class ScheduledSpaceExpired extends Schema.TaggedError<ScheduledSpaceExpired>()(
  "ScheduledSpaceExpired",
  {
    spaceId: SpaceId,
    /** The deadline: the scheduled time plus `expiryMs`. */
    expiredAt: Schema.Number,
    /** How long after its scheduled time a Space may still be started (`rules.scheduledExpiryMs`). */
    expiryMs: Schema.Int
  }
) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `Space ${this.spaceId} expired at ${new Date(this.expiredAt).toISOString()}: a scheduled Space must start within ${duration(this.expiryMs)} of its time`
  }
}

export class NotACoHost extends Schema.TaggedError<NotACoHost>()("NotACoHost", { user: UserId }) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `${this.user} is not a co-host`
  }
}

/** Every way a Space command can be rejected. */
export type SpaceError =
  | SpaceNotFound
  | SpaceAlreadyExists
  | SpaceHasEnded
  | WrongSpaceStatus
  | NotPermitted
  | BannedFromSpace
  | NotInSpace
  | NotASpeaker
  | NotACoHost
  | AlreadySpeaking
  | SpeakerLimitReached
  | CoHostLimitReached
  | ListenerLimitReached
  | SpeakRequestsNotAllowed
  | NoPendingRequest
  | CannotTargetHost
  | OnlySpeakerCanUnmute
  | InvalidTitle
  | InvalidTopics
  | ScheduleOutOfRange
  | InvalidPost
  | PostNotFound
  | PostAlreadyExists
  | CaptionsOff
  | InvalidCaption
  | NotDueYet
  | ScheduledSpaceExpired
