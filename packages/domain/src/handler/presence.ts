import { Clock, Effect } from "effect"
import type { SpaceId, UserId } from "../ids.js"
import { actorOf, type SpaceCommand } from "../space/SpaceCommand.js"
import type { SpaceError } from "../space/SpaceError.js"
import type { SpaceEvent } from "../space/SpaceEvent.js"
import type { SpaceState } from "../space/SpaceState.js"
import { spaceStream, userStream } from "../streams.js"
import type { UserCommand, UserError, UserEvent, UserState } from "../user/User.js"
import type { AppendResult, ReadError, StreamAppend } from "../eventstore/EventStore.js"
import { type EventStoreUnavailable, WrongExpectedVersion } from "../eventstore/EventStoreError.js"
import { participantOf } from "../space/SpaceState.js"
import type { AggregateRepository, Loaded, Outcome } from "./AggregateRepository.js"
import { ConcurrencyConflict } from "./ConcurrencyConflict.js"
import { makeKeyedLock } from "./KeyedLock.js"
import type { CommandOptions, Executed, FirstAttempt, HandlerError } from "./Spaces.js"

/** Commands through which a user enters a Space (and so must leave any other one first). */
const ENTERING = new Set<SpaceCommand["_tag"]>([
  "CreateSpace",
  "StartSpace",
  "JoinSpace",
  "AcceptSpeakerInvite",
  "AcceptCoHostInvite"
])

/** Whether the events admit `user` to the Space (as its host starting it, a listener, the host back). */
const enters = (events: ReadonlyArray<SpaceEvent>, user: UserId) =>
  events.some(
    (e) =>
      (e._tag === "SpaceStarted" && e.host === user) ||
      ((e._tag === "ListenerJoined" || e._tag === "HostReturned") && e.user === user)
  )

/**
 * The errors of a Space command that are not a rejection by the Space's rules: the store's and the
 * handler's. Leaving the previous Space ignores a rule's rejection (the user is not in it any
 * more, it ended) but not these.
 */
const NOT_A_RULE: { readonly [T in HandlerError["_tag"]]: true } = {
  ConcurrencyConflict: true,
  IdempotencyKeyReused: true,
  EventStoreUnavailable: true,
  MalformedEvent: true
}
const isRuleRejection = (error: SpaceError | HandlerError): error is SpaceError =>
  !Object.hasOwn(NOT_A_RULE, error._tag)

/** One stream's part of an admission, ready to append: what to write, and what to do once written. */
export interface PreparedAppend {
  readonly written: StreamAppend
  readonly committed: (result: AppendResult) => Outcome<unknown>
}

/** What the presence steps need of the handler: its repositories, decisions and runs. */
export interface PresenceDeps {
  readonly spaces: AggregateRepository<SpaceEvent, SpaceState>
  readonly users: AggregateRepository<UserEvent, UserState>
  readonly decideSpace: (
    command: SpaceCommand,
    state: SpaceState,
    now: number
  ) => Effect.Effect<ReadonlyArray<SpaceEvent>, SpaceError | ReadError>
  readonly decideUser: (
    command: UserCommand,
    state: UserState,
    now: number
  ) => Effect.Effect<ReadonlyArray<UserEvent>, UserError | ReadError>
  readonly runSpace: (
    command: SpaceCommand,
    options: CommandOptions | undefined,
    first?: FirstAttempt<SpaceState, SpaceEvent>
  ) => Effect.Effect<Executed<SpaceEvent>, SpaceError | HandlerError>
  readonly runUser: (
    command: UserCommand,
    options: CommandOptions | undefined,
    first?: FirstAttempt<UserState, UserEvent>
  ) => Effect.Effect<Executed<UserEvent>, UserError | HandlerError>
  /** A decided command's append, prepared on its repository (ids, metadata, expected revision). */
  readonly prepare: <Event, State>(
    repo: AggregateRepository<Event, State>,
    stream: string,
    loaded: Loaded<State, Event>,
    events: ReadonlyArray<Event>,
    actor: string,
    now: number,
    /** The command whose options (idempotency key, correlation) the metadata carries. */
    command?: SpaceCommand,
    options?: CommandOptions
  ) => Effect.Effect<PreparedAppend>
  /** Appends the prepared parts, atomically where the store can (see `appendStreams`). */
  readonly appendAll: (
    parts: ReadonlyArray<PreparedAppend>
  ) => Effect.Effect<ReadonlyArray<Outcome<unknown>>, WrongExpectedVersion | EventStoreUnavailable>
  /** Whether `appendAll` is one atomic step (else a conflict may leave its first parts written). */
  readonly atomic: boolean
  /** Orders one user's moves: in this process, and across processes when a `UserMoves` port is given. */
  readonly userLock: <A, E, R>(user: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** How many times an admission is decided again after a concurrent write before giving up. */
const MAX_ATTEMPTS = 25

/**
 * Presence: a user is in at most one live Space. When a command admits `user` to `spaceId`, three
 * appends go together, in this order and (where the store can) in one atomic step: the leave of
 * the Space their stream says they are in, the move on their own stream, and the admission. Each
 * is at the revision its decision was made on, so a concurrent write to any of the three streams
 * (another move of the same user, on this process or another; the Space filling up) refuses them
 * all, and the admission is decided again on the newer state. Within a process, per-user and
 * per-Space locks also order a user's moves and a Space's admissions, so that they wait for each
 * other instead of conflicting (see KeyedLock.ts).
 */
export const makePresence = (deps: PresenceDeps) => {
  const { spaces, users, userLock } = deps
  // Admissions to one Space in this process take turns: all deciding on the same revision at once,
  // all but one would conflict and decide again, and a crowd joining a Space would starve its last.
  const admissionLock = makeKeyedLock()

  /** The appends that take `user` out of their previous Space and record the move to `spaceId`. */
  const moveOf = (user: UserId, spaceId: SpaceId, hosting: boolean, now: number) =>
    Effect.gen(function* () {
      const parts: Array<PreparedAppend> = []
      const userLoaded = yield* users.load(userStream(user))
      const previous = userLoaded.state.presence
      if (previous !== null && previous !== spaceId) {
        const stream = spaceStream(previous)
        const loaded = yield* spaces.load(stream)
        const leave: SpaceCommand = { _tag: "LeaveSpace", spaceId: previous, by: user }
        // Not in it any more, or it ended: nothing to leave.
        const left = yield* deps
          .decideSpace(leave, loaded.state, now)
          .pipe(Effect.catchIf(isRuleRejection, () => Effect.succeed([])))
        if (left.length > 0) parts.push(yield* deps.prepare(spaces, stream, loaded, left, user, now))
      }
      // The hosting rule is the move's: refused here, nothing was written.
      const move: UserCommand = { _tag: "EnterSpace", user, spaceId, hosting }
      const moved = yield* deps.decideUser(move, userLoaded.state, now)
      if (moved.length > 0)
        parts.push(yield* deps.prepare(users, userStream(user), userLoaded, moved, user, now))
      return parts
    })

  /**
   * Best effort, where appends are not atomic: the user rejoins the Space they left (the usual
   * presence step first). A refusal (ended meanwhile, banned, full) leaves them in no Space, as a
   * crash between the steps would.
   */
  const returnTo = (user: UserId, spaceId: SpaceId) =>
    Effect.gen(function* () {
      const loaded = yield* spaces.load(spaceStream(spaceId))
      if (participantOf(loaded.state, user) !== undefined) return
      yield* admit({ _tag: "JoinSpace", spaceId, by: user }, undefined, user, false)
    }).pipe(Effect.ignore)

  /** One decision of the command and, if it admits the user, the appends of their move with it. */
  const attempt = (command: SpaceCommand, options: CommandOptions | undefined, user: UserId) =>
    Effect.gen(function* () {
      const stream = spaceStream(command.spaceId)
      const loaded: Loaded<SpaceState, SpaceEvent> = yield* spaces.load(stream)
      const key = options?.idempotencyKey
      const earlier = key === undefined ? undefined : yield* spaces.outcomeOf(stream, loaded, key)
      // A retry is answered by the run from its recorded outcome, without a decision here.
      if (earlier !== undefined) return yield* deps.runSpace(command, options, { loaded })
      const now = yield* Clock.currentTimeMillis
      // Its rejection is the answer.
      const events = yield* deps.decideSpace(command, loaded.state, now)
      if (!enters(events, user))
        return yield* deps.runSpace(command, options, { loaded, decided: { events, now } })
      const hosting = events.some((e) => e._tag === "SpaceStarted")
      const parts = yield* moveOf(user, command.spaceId, hosting, now)
      if (!deps.atomic) {
        // One stream after the other: the admission retries alone once the move is recorded.
        yield* deps.appendAll(parts)
        return yield* deps.runSpace(command, options, { loaded, decided: { events, now } })
      }
      const own = yield* deps.prepare(spaces, stream, loaded, events, user, now, command, options)
      const outcomes = yield* deps.appendAll([...parts, own])
      const outcome = outcomes[outcomes.length - 1]! as Outcome<SpaceEvent>
      return { ...outcome, replayed: false } satisfies Executed<SpaceEvent>
    })

  /** Decides again after a concurrent write to any of the streams, up to `MAX_ATTEMPTS` times. */
  const attempts = (
    command: SpaceCommand,
    options: CommandOptions | undefined,
    user: UserId,
    n: number
  ): Effect.Effect<Executed<SpaceEvent>, SpaceError | UserError | HandlerError> =>
    attempt(command, options, user).pipe(
      Effect.catchIf(
        (error): error is WrongExpectedVersion => error instanceof WrongExpectedVersion,
        (error) =>
          n + 1 >= MAX_ATTEMPTS
            ? Effect.fail(new ConcurrencyConflict({ stream: error.stream, attempts: n + 1 }))
            : Effect.zipRight(Effect.yieldNow(), attempts(command, options, user, n + 1))
      )
    )

  /**
   * A command that may admit its actor. Where appends are not atomic, a conflict may have left the
   * user's leave written: if the command is then refused, they go back to the Space they were in,
   * if it still admits them, rather than being in none.
   */
  const admit = (
    command: SpaceCommand,
    options: CommandOptions | undefined,
    user: UserId,
    goBack = !deps.atomic
  ): Effect.Effect<Executed<SpaceEvent>, SpaceError | UserError | HandlerError> =>
    Effect.gen(function* () {
      const was = (yield* users.load(userStream(user))).state.presence
      return yield* spacesLocked(command.spaceId, was, attempts(command, options, user, 0)).pipe(
        Effect.tapError(() =>
          !goBack || was === null || was === command.spaceId ? Effect.void : returnTo(user, was)
        )
      )
    })

  /**
   * Holds the turns of the Space entered and of the one left (the leave is appended to it), taken
   * in one order everywhere so that two moves between the same two Spaces never wait on each other.
   * Without the second, a leave raced the admissions and leaves of the Space it left and lost: in
   * the HTTP benchmark about one conflict, and so one more decision, per join.
   */
  const spacesLocked = <A, E, R>(
    entered: SpaceId,
    left: SpaceId | null,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> =>
    left === null || left === entered
      ? admissionLock(entered, effect)
      : entered < left
        ? admissionLock(entered, admissionLock(left, effect))
        : admissionLock(left, admissionLock(entered, effect))

  /** The user a command admits to a Space, if it is one that may: its presence steps come first. */
  const entrant = (command: SpaceCommand): UserId | undefined =>
    ENTERING.has(command._tag) ? actorOf(command) : undefined

  return {
    entrant,
    admit: (command: SpaceCommand, options: CommandOptions | undefined, user: UserId) =>
      userLock(user, admit(command, options, user))
  }
}
