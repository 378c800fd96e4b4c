import { Clock, Effect } from "effect"
import type { SpaceId, UserId } from "../ids.js"
import { actorOf, type SpaceCommand } from "../space/SpaceCommand.js"
import type { SpaceError } from "../space/SpaceError.js"
import type { SpaceEvent } from "../space/SpaceEvent.js"
import type { SpaceState } from "../space/SpaceState.js"
import { spaceStream, userStream } from "../streams.js"
import type { UserCommand, UserError, UserEvent, UserState } from "../user/User.js"
import type { AggregateRepository, Loaded } from "./AggregateRepository.js"
import type { ReadError } from "../eventstore/EventStore.js"
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
  /** Orders one user's moves: in this process, and across processes when a `UserMoves` port is given. */
  readonly userLock: <A, E, R>(user: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * Presence: a user is in at most one live Space. Before `user` is admitted to `spaceId`, they
 * leave the Space their stream says they are in, then their stream records the move (appended at
 * the revision read, so concurrent moves serialize). Admission comes last, so at no point of the
 * log is the user a participant of two live Spaces; a crash between the steps leaves the user in
 * no Space, never in two. Within a process a per-user lock orders a user's moves; across processes
 * the `UserMoves` port does (see KeyedLock.ts).
 */
export const makePresence = (deps: PresenceDeps) => {
  const { spaces, users, userLock } = deps

  /** Admits `user` to `spaceId` after leaving their previous Space; the Space they left, if any. */
  const enter = (user: UserId, spaceId: SpaceId, hosting: boolean) =>
    Effect.gen(function* () {
      const loaded = yield* users.load(userStream(user))
      const previous = loaded.state.presence
      if (previous !== null && previous !== spaceId) {
        // Check the hosting rule before leaving anything, so a refused start changes nothing.
        if (hosting)
          yield* deps.decideUser(
            { _tag: "EnterSpace", user, spaceId, hosting: true },
            loaded.state,
            yield* Clock.currentTimeMillis
          )
        yield* deps
          .runSpace({ _tag: "LeaveSpace", spaceId: previous, by: user }, undefined)
          .pipe(Effect.catchIf(isRuleRejection, () => Effect.void))
      }
      yield* deps.runUser({ _tag: "EnterSpace", user, spaceId, hosting }, undefined, { loaded })
      return previous !== null && previous !== spaceId ? previous : null
    })

  /**
   * Best effort: the user rejoins the Space they just left (the usual presence step first). A
   * refusal (ended meanwhile, banned, full) leaves them in no Space, as a crash between the steps would.
   */
  const returnTo = (user: UserId, spaceId: SpaceId) =>
    Effect.gen(function* () {
      yield* enter(user, spaceId, false)
      yield* deps.runSpace({ _tag: "JoinSpace", spaceId, by: user }, undefined)
    }).pipe(Effect.ignore)

  /**
   * A command that may admit its actor: decided once on the loaded Space; if it admits them, they
   * leave their previous Space first, and the decision is appended (decided again only if the
   * Space changed meanwhile, e.g. filled: then the user goes back to the Space they left if it
   * still admits them, as a listener, rather than being in none).
   */
  const admit = (command: SpaceCommand, options: CommandOptions | undefined, user: UserId) =>
    userLock(
      user,
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
        const left = enters(events, user)
          ? yield* enter(
              user,
              command.spaceId,
              events.some((e) => e._tag === "SpaceStarted")
            )
          : null
        return yield* deps
          .runSpace(command, options, { loaded, decided: { events, now } })
          .pipe(Effect.tapError(() => (left === null ? Effect.void : returnTo(user, left))))
      })
    )

  /** The user a command admits to a Space, if it is one that may: its presence steps come first. */
  const entrant = (command: SpaceCommand): UserId | undefined =>
    ENTERING.has(command._tag) ? actorOf(command) : undefined

  return { entrant, admit }
}
