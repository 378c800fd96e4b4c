import { Clock, Context, Effect, HashSet, Layer, Option } from "effect"
import { EventStore, type EventMetadata, type ReadError } from "../eventstore/EventStore.js"
import { type EventStoreUnavailable, WrongExpectedVersion } from "../eventstore/EventStoreError.js"
import type { SpaceId, UserId } from "../ids.js"
import { Rules } from "../rules/RoomRules.js"
import { decide, type SpaceContext } from "../space/decide.js"
import { evolve } from "../space/evolve.js"
import { actorOf, type SpaceCommand } from "../space/SpaceCommand.js"
import { spaceStream } from "../space/SpaceDecider.js"
import type { SpaceError } from "../space/SpaceError.js"
import { SpaceEvent } from "../space/SpaceEvent.js"
import { initialSpaceState, type SpaceState } from "../space/SpaceState.js"
import {
  decideUser,
  evolveUser,
  initialUserState,
  type UserCommand,
  type UserError,
  UserEvent,
  type UserState,
  userStream
} from "../user/User.js"
import {
  type AggregateRepository,
  makeAggregateRepository,
  type KeyedOutcome,
  type Loaded,
  type Outcome
} from "./AggregateRepository.js"
import { commandDigest } from "./commandDigest.js"
import { ConcurrencyConflict } from "./ConcurrencyConflict.js"
import { HostingPolicy, type HostingNotAllowed } from "./HostingPolicy.js"
import { IdempotencyKeyReused } from "./IdempotencyKeyReused.js"
import { IdGenerator } from "./IdGenerator.js"
import { makeKeyedLock, UserMoves } from "./KeyedLock.js"

export interface CommandOptions {
  /**
   * A retried command with the same key (on the same stream) is answered as the first time; a
   * different command under a key already used fails with `IdempotencyKeyReused`.
   */
  readonly idempotencyKey?: string
  readonly correlationId?: string
}

export interface Executed<Event> extends Outcome<Event> {
  /** True when the answer is the recorded outcome of an earlier command with the same key. */
  readonly replayed: boolean
}

export type CommandError =
  | SpaceError
  | UserError
  | HostingNotAllowed
  | ConcurrencyConflict
  | IdempotencyKeyReused
  | EventStoreUnavailable
  | ReadError

/** The application service: every command of the product goes through here. */
export interface SpacesShape {
  readonly execute: (
    command: SpaceCommand,
    options?: CommandOptions
  ) => Effect.Effect<Executed<SpaceEvent>, CommandError>
  readonly executeUser: (
    command: UserCommand,
    options?: CommandOptions
  ) => Effect.Effect<Executed<UserEvent>, CommandError>
  readonly space: (spaceId: SpaceId) => Effect.Effect<SpaceState, ReadError>
  readonly user: (userId: UserId) => Effect.Effect<UserState, ReadError>
}

export class Spaces extends Context.Tag("@spaces/domain/Spaces")<Spaces, SpacesShape>() {}

/** How many times a decision is retried against a newer state before giving up. */
const MAX_ATTEMPTS = 25

/** Commands through which a user enters a Space (and so must leave any other one first). */
const ENTERING = new Set<SpaceCommand["_tag"]>([
  "CreateSpace",
  "StartSpace",
  "JoinSpace",
  "AcceptSpeakerInvite",
  "AcceptCoHostInvite"
])

const enters = (events: ReadonlyArray<SpaceEvent>, user: UserId) =>
  events.some(
    (e) =>
      (e._tag === "SpaceStarted" && e.host === user) ||
      ((e._tag === "ListenerJoined" || e._tag === "HostReturned") && e.user === user)
  )

export interface SpacesOptions {
  /** Streams whose folded state stays in memory between commands (0: refold every time). */
  readonly cacheSize?: number
  /** Idempotency outcomes kept in memory per stream (older keys are looked up in the stream). */
  readonly maxOutcomesPerStream?: number
}

export const makeSpacesWith = (options: SpacesOptions = {}) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const rules = yield* Rules
    const hostingPolicy = yield* HostingPolicy
    const ids = yield* IdGenerator
    const cache = {
      ...(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize }),
      ...(options.maxOutcomesPerStream === undefined
        ? {}
        : { maxOutcomesPerStream: options.maxOutcomesPerStream })
    }
    const spaces = makeAggregateRepository(store, {
      schema: SpaceEvent,
      evolve,
      initialState: initialSpaceState,
      ...cache
    })
    const users = makeAggregateRepository(store, {
      schema: UserEvent,
      evolve: evolveUser,
      initialState: initialUserState,
      ...cache
    })
    const localLock = makeKeyedLock()
    // Several processes (server nodes) order a user's moves through this port as well.
    const moves = yield* Effect.serviceOption(UserMoves)
    const userLock = <A, E, R>(user: string, effect: Effect.Effect<A, E, R>) =>
      localLock(user, Option.isSome(moves) ? moves.value.serialize(user, effect) : effect)

    const metadata = (
      actor: string | undefined,
      options: CommandOptions | undefined,
      digest: string | undefined,
      now: number
    ): EventMetadata => ({
      recordedAt: now,
      ...(actor === undefined ? {} : { actor }),
      ...(options?.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      ...(digest === undefined ? {} : { commandDigest: digest }),
      ...(options?.correlationId === undefined ? {} : { correlationId: options.correlationId })
    })

    /** Only keyed commands are fingerprinted: the digest matters only to a retry. */
    const digestOf = (command: SpaceCommand | UserCommand, options: CommandOptions | undefined) =>
      options?.idempotencyKey === undefined ? undefined : commandDigest(command)

    /** The first answer to a key, or why the command may not have it (the key named another command). */
    const replay = <Event>(
      key: string,
      earlier: KeyedOutcome<Event>,
      digest: string | undefined
    ): Effect.Effect<Executed<Event>, IdempotencyKeyReused> =>
      // Outcomes recorded before commands were fingerprinted can't be compared: they replay.
      earlier.commandDigest !== undefined && earlier.commandDigest !== digest
        ? Effect.fail(new IdempotencyKeyReused({ key }))
        : Effect.succeed({
            events: earlier.events,
            revision: earlier.revision,
            position: earlier.position,
            replayed: true
          })

    type HandlerError = ConcurrencyConflict | IdempotencyKeyReused | EventStoreUnavailable | ReadError

    /**
     * Load, decide, append at the loaded revision; on a concurrent write, decide again on the newer
     * state (never re-append a stale decision). `preloaded`, loaded earlier by the same command,
     * stands for the first attempt while it is still the cached state: the append at its revision
     * is what proves it current, and a conflict reloads.
     */
    const decideAndAppend = <Event, State, E>(
      repo: AggregateRepository<Event, State>,
      stream: string,
      decision: (loaded: Loaded<State, Event>, now: number) => Effect.Effect<ReadonlyArray<Event>, E>,
      actor: string | undefined,
      options: CommandOptions | undefined,
      digest: string | undefined,
      preloaded?: Loaded<State, Event>
    ): Effect.Effect<Executed<Event>, E | HandlerError> => {
      const attempt = (n: number): Effect.Effect<Executed<Event>, E | HandlerError> =>
        Effect.gen(function* () {
          const loaded =
            n === 0 && preloaded !== undefined && repo.isCurrent(stream, preloaded)
              ? preloaded
              : yield* repo.load(stream)
          const key = options?.idempotencyKey
          const earlier = key === undefined ? undefined : yield* repo.outcomeOf(stream, loaded, key)
          if (key !== undefined && earlier !== undefined) return yield* replay(key, earlier, digest)
          const now = yield* Clock.currentTimeMillis
          const events = yield* decision(loaded, now)
          if (events.length === 0)
            return { events: [], revision: loaded.revision, position: loaded.position, replayed: false }
          const outcome = yield* repo.append(
            stream,
            loaded,
            events,
            metadata(actor, options, digest, now),
            ids.uuid
          )
          return { ...outcome, replayed: false }
        }).pipe(
          Effect.catchIf(
            (error): error is WrongExpectedVersion => error instanceof WrongExpectedVersion,
            () =>
              n + 1 >= MAX_ATTEMPTS
                ? Effect.fail(new ConcurrencyConflict({ stream, attempts: n + 1 }))
                : Effect.zipRight(Effect.yieldNow(), attempt(n + 1))
          )
        )
      return attempt(0)
    }

    const loadSpace = (spaceId: SpaceId) => Effect.map(spaces.load(spaceStream(spaceId)), (l) => l.state)
    const loadUser = (userId: UserId) => Effect.map(users.load(userStream(userId)), (l) => l.state)

    /** The context a Space decision sees: the clock, the rules, and whom the host follows. */
    const spaceContext = (command: SpaceCommand, state: SpaceState, now: number) =>
      Effect.gen(function* () {
        const needsFollows =
          command._tag === "RaiseHand" && state.speakPolicy === "followed" && state.host !== null
        const follows = needsFollows ? (yield* loadUser(state.host!)).follows : HashSet.empty<UserId>()
        return {
          now,
          rules,
          hostFollows: (user: UserId) => HashSet.has(follows, user)
        } satisfies SpaceContext
      })

    const runSpace = (
      command: SpaceCommand,
      options: CommandOptions | undefined,
      preloaded?: Loaded<SpaceState, SpaceEvent>
    ) =>
      decideAndAppend<SpaceEvent, SpaceState, SpaceError | ReadError>(
        spaces,
        spaceStream(command.spaceId),
        (loaded, now) =>
          Effect.flatMap(spaceContext(command, loaded.state, now), (ctx) =>
            decide(command, loaded.state, ctx)
          ),
        actorOf(command) ?? ("service" in command ? command.service : "system"),
        options,
        digestOf(command, options),
        preloaded
      )

    /** A user decision; the hosting pointer is trusted only while the Space it names is live. */
    const decideForUser = (command: UserCommand, state: UserState, now: number) =>
      Effect.gen(function* () {
        const hosting = state.hosting
        const hostingLive = hosting === null ? false : (yield* loadSpace(hosting)).status === "live"
        return yield* decideUser(command, state, { now, isLive: (id) => id === hosting && hostingLive })
      })

    const executeUser = (
      command: UserCommand,
      options?: CommandOptions,
      preloaded?: Loaded<UserState, UserEvent>
    ) => {
      const user = command._tag === "EnterSpace" ? command.user : command.by
      return decideAndAppend<UserEvent, UserState, UserError | ReadError>(
        users,
        userStream(user),
        (loaded, now) => decideForUser(command, loaded.state, now),
        user,
        options,
        digestOf(command, options),
        preloaded
      )
    }

    /**
     * Presence: a user is in at most one live Space. Before `user` is admitted to `spaceId`, they
     * leave the Space their stream says they are in, then their stream records the move (appended
     * at the revision read, so concurrent moves serialize). Admission comes last, so at no point of
     * the log is the user a participant of two live Spaces; a crash between the steps leaves the
     * user in no Space, never in two. Within a process a per-user lock orders a user's moves;
     * across processes the `UserMoves` port does (see KeyedLock.ts).
     */
    /** Admits `user` to `spaceId` after leaving their previous Space; the Space they left, if any. */
    const enter = (user: UserId, spaceId: SpaceId, hosting: boolean) =>
      Effect.gen(function* () {
        const loaded = yield* users.load(userStream(user))
        const state = loaded.state
        const previous = state.presence
        if (previous !== null && previous !== spaceId) {
          // Check the hosting rule before leaving anything, so a refused start changes nothing.
          if (hosting)
            yield* decideForUser(
              { _tag: "EnterSpace", user, spaceId, hosting: true },
              state,
              yield* Clock.currentTimeMillis
            )
          yield* runSpace({ _tag: "LeaveSpace", spaceId: previous, by: user }, undefined).pipe(
            Effect.catchIf(
              (e): e is SpaceError => "kind" in e && e._tag !== "ConcurrencyConflict",
              () => Effect.void
            )
          )
        }
        yield* executeUser({ _tag: "EnterSpace", user, spaceId, hosting }, undefined, loaded)
        return previous !== null && previous !== spaceId ? previous : null
      })

    /**
     * Best effort: the user rejoins the Space they just left (the usual presence step first). A
     * refusal (ended meanwhile, banned, full) leaves them in no Space, as a crash between the steps would.
     */
    const returnTo = (user: UserId, spaceId: SpaceId) =>
      Effect.gen(function* () {
        yield* enter(user, spaceId, false)
        yield* runSpace({ _tag: "JoinSpace", spaceId, by: user }, undefined)
      }).pipe(Effect.ignore)

    const execute = (command: SpaceCommand, options?: CommandOptions) =>
      Effect.gen(function* () {
        if (command._tag === "CreateSpace") yield* hostingPolicy.check(command.by)
        const user = ENTERING.has(command._tag) ? actorOf(command) : undefined
        if (user === undefined) return yield* runSpace(command, options)
        return yield* userLock(
          user,
          Effect.gen(function* () {
            const loaded = yield* spaces.load(spaceStream(command.spaceId))
            const key = options?.idempotencyKey
            const earlier =
              key === undefined
                ? undefined
                : yield* spaces.outcomeOf(spaceStream(command.spaceId), loaded, key)
            let left: SpaceId | null = null
            if (earlier === undefined) {
              // A dry run tells whether the command admits the user; its rejection is the answer.
              const now = yield* Clock.currentTimeMillis
              const ctx = yield* spaceContext(command, loaded.state, now)
              const events = yield* decide(command, loaded.state, ctx)
              if (enters(events, user)) {
                left = yield* enter(
                  user,
                  command.spaceId,
                  events.some((e) => e._tag === "SpaceStarted")
                )
              }
            }
            // The final decision may still refuse (another command changed the Space since the
            // dry run, e.g. filled it): the user, who left their previous Space for this one, goes
            // back to it if it still admits them (as a listener), rather than being in none.
            return yield* runSpace(command, options, loaded).pipe(
              Effect.tapError(() => (left === null ? Effect.void : returnTo(user, left)))
            )
          })
        )
      })

    return Spaces.of({
      execute,
      executeUser: (command, options) => executeUser(command, options),
      space: loadSpace,
      user: loadUser
    })
  })

export const makeSpaces = makeSpacesWith()

/** The application service over whatever `EventStore`, `Rules` and `HostingPolicy` are provided. */
export const SpacesLive = Layer.effect(Spaces, makeSpaces)
