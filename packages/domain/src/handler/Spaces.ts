import { Clock, Context, Effect, HashSet, Layer, Option } from "effect"
import type { Decider } from "../Decider.js"
import { appendStreams } from "../eventstore/appendStreams.js"
import {
  type AppendResult,
  EventStore,
  type EventMetadata,
  type ReadError
} from "../eventstore/EventStore.js"
import { type EventStoreUnavailable, WrongExpectedVersion } from "../eventstore/EventStoreError.js"
import type { SpaceId, UserId } from "../ids.js"
import { Rules } from "../rules/RoomRules.js"
import type { SpaceContext } from "../space/decide.js"
import { actorOf, type SpaceCommand } from "../space/SpaceCommand.js"
import { SpaceDecider } from "../space/SpaceDecider.js"
import type { SpaceError } from "../space/SpaceError.js"
import { SpaceEvent } from "../space/SpaceEvent.js"
import type { SpaceState } from "../space/SpaceState.js"
import { spaceStream, userStream } from "../streams.js"
import {
  type UserCommand,
  type UserContext,
  UserDecider,
  type UserError,
  UserEvent,
  type UserState
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
import { makePresence, type PresenceDeps } from "./presence.js"

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

/** The host follows nobody, as far as a decision that does not ask needs to know. */
const followsNobody = (_user: UserId) => false
/** No Space is live, as far as a user without a hosting pointer needs to know. */
const liveNowhere = (_id: SpaceId) => false

/** How many times a decision is retried against a newer state before giving up. */
const MAX_ATTEMPTS = 25

/** The handler's own errors, besides the aggregate's rules: a lost race, a reused key, the store's. */
export type HandlerError = ConcurrencyConflict | IdempotencyKeyReused | EventStoreUnavailable | ReadError

/**
 * The first attempt of a command, prepared by the caller: the state it loaded, and the decision it
 * already made on that state (a join's). They stand for the first attempt while the state is still
 * the cached one: the append at its revision proves it current, and a conflict decides again.
 */
export interface FirstAttempt<State, Event> {
  readonly loaded: Loaded<State, Event>
  readonly decided?: { readonly events: ReadonlyArray<Event>; readonly now: number }
}

/** An aggregate as the handler runs it: its decider, its repository, and what a decision may look at. */
interface Aggregate<Command, Event, State, Ctx, E, CtxError> {
  readonly decider: Decider<Command, Event, State, Ctx, E>
  readonly repo: AggregateRepository<Event, State>
  readonly contextOf: (command: Command, state: State, now: number) => Effect.Effect<Ctx, CtxError>
}

/** The aggregate's decision on `state` at `now`, in the context it needs. */
const decideWith = <Command, Event, State, Ctx, E, CtxError>(
  aggregate: Aggregate<Command, Event, State, Ctx, E, CtxError>,
  command: Command,
  state: State,
  now: number
): Effect.Effect<ReadonlyArray<Event>, E | CtxError> =>
  Effect.flatMap(aggregate.contextOf(command, state, now), (ctx) =>
    aggregate.decider.decide(command, state, ctx)
  )

export interface SpacesOptions {
  /** Streams whose folded state stays in memory between commands (0: refold every time). */
  readonly cacheSize?: number
  /** Idempotency outcomes kept in memory per stream (older keys are looked up in the stream). */
  readonly maxOutcomesPerStream?: number
  /**
   * Idempotency outcomes kept in memory over all streams, per aggregate kind (default 100,000; the
   * least recently used streams' oldest go first, and are then looked up in the stream).
   */
  readonly maxOutcomes?: number
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
        : { maxOutcomesPerStream: options.maxOutcomesPerStream }),
      ...(options.maxOutcomes === undefined ? {} : { maxOutcomes: options.maxOutcomes })
    }
    const spaces = makeAggregateRepository(store, { schema: SpaceEvent, decider: SpaceDecider, ...cache })
    const users = makeAggregateRepository(store, { schema: UserEvent, decider: UserDecider, ...cache })
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

    /**
     * Load, decide, append at the loaded revision; on a concurrent write, decide again on the newer
     * state (never re-append a stale decision). `first`, prepared by the same command, stands for
     * the first attempt while its state is still the cached one (see `FirstAttempt`).
     */
    const decideAndAppend = <Command, Event, State, Ctx, E, CtxError>(
      aggregate: Aggregate<Command, Event, State, Ctx, E, CtxError>,
      stream: string,
      command: Command,
      actor: string | undefined,
      options: CommandOptions | undefined,
      digest: string | undefined,
      first?: FirstAttempt<State, Event>
    ): Effect.Effect<Executed<Event>, E | CtxError | HandlerError> => {
      const { repo } = aggregate
      const attempt = (n: number): Effect.Effect<Executed<Event>, E | CtxError | HandlerError> =>
        Effect.gen(function* () {
          const prepared =
            n === 0 && first !== undefined && repo.isCurrent(stream, first.loaded) ? first : undefined
          const loaded = prepared?.loaded ?? (yield* repo.load(stream))
          const key = options?.idempotencyKey
          const earlier = key === undefined ? undefined : yield* repo.outcomeOf(stream, loaded, key)
          if (key !== undefined && earlier !== undefined) return yield* replay(key, earlier, digest)
          const now = prepared?.decided?.now ?? (yield* Clock.currentTimeMillis)
          const events =
            prepared?.decided?.events ?? (yield* decideWith(aggregate, command, loaded.state, now))
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

    const space: Aggregate<SpaceCommand, SpaceEvent, SpaceState, SpaceContext, SpaceError, ReadError> = {
      decider: SpaceDecider,
      repo: spaces,
      /** The clock, the rules, and whom the host follows (read only when the command needs it). */
      // Not a generator: every decision asks for its context, and most need no read.
      contextOf: (command, state, now) =>
        command._tag === "RaiseHand" && state.speakPolicy === "followed" && state.host !== null
          ? Effect.map(loadUser(state.host), ({ follows }) => ({
              now,
              rules,
              hostFollows: (user: UserId) => HashSet.has(follows, user)
            }))
          : Effect.succeed({ now, rules, hostFollows: followsNobody })
    }

    const user: Aggregate<UserCommand, UserEvent, UserState, UserContext, UserError, ReadError> = {
      decider: UserDecider,
      repo: users,
      /** The hosting pointer is trusted only while the Space it names is live. */
      contextOf: (_command, state, now) => {
        const hosting = state.hosting
        return hosting === null
          ? Effect.succeed({ now, isLive: liveNowhere })
          : Effect.map(loadSpace(hosting), ({ status }) => ({
              now,
              isLive: (id: SpaceId) => id === hosting && status === "live"
            }))
      }
    }

    /** Who a command is recorded as: its actor, or the service or the system (scheduled commands). */
    const spaceActor = (command: SpaceCommand) =>
      actorOf(command) ?? ("service" in command ? command.service : "system")
    const userActor = (command: UserCommand) => (command._tag === "EnterSpace" ? command.user : command.by)

    const runSpace = (
      command: SpaceCommand,
      options: CommandOptions | undefined,
      first?: FirstAttempt<SpaceState, SpaceEvent>
    ) =>
      decideAndAppend(
        space,
        spaceStream(command.spaceId),
        command,
        spaceActor(command),
        options,
        digestOf(command, options),
        first
      )

    const runUser = (
      command: UserCommand,
      options: CommandOptions | undefined,
      first?: FirstAttempt<UserState, UserEvent>
    ) => {
      const by = userActor(command)
      return decideAndAppend(user, userStream(by), command, by, options, digestOf(command, options), first)
    }

    /** A decided command's append on `repo`, and what its commit does to the cache. */
    const prepare: PresenceDeps["prepare"] = (repo, stream, loaded, events, actor, now, command, options) =>
      Effect.map(
        repo.toAppend(
          stream,
          loaded,
          events,
          metadata(actor, options, command === undefined ? undefined : digestOf(command, options), now),
          ids.uuid
        ),
        (written) => ({
          written,
          committed: (result: AppendResult) => repo.committed(loaded, events, written, result)
        })
      )

    const presence = makePresence({
      spaces,
      users,
      prepare,
      appendAll: (parts) =>
        Effect.map(
          appendStreams(
            store,
            parts.map((p) => p.written)
          ),
          (results) => parts.map((p, i) => p.committed(results[i]!))
        ),
      atomic: store.appendMany !== undefined,
      decideSpace: (command, state, now) => decideWith(space, command, state, now),
      decideUser: (command, state, now) => decideWith(user, command, state, now),
      runSpace,
      runUser,
      userLock
    })

    const execute = (command: SpaceCommand, options?: CommandOptions) =>
      Effect.gen(function* () {
        if (command._tag === "CreateSpace") yield* hostingPolicy.check(command.by)
        const entrant = presence.entrant(command)
        return yield* entrant === undefined
          ? runSpace(command, options)
          : presence.admit(command, options, entrant)
      })

    return Spaces.of({
      execute,
      executeUser: (command, options) => runUser(command, options),
      space: loadSpace,
      user: loadUser
    })
  })

export const makeSpaces = makeSpacesWith()

/** The application service over whatever `EventStore`, `Rules` and `HostingPolicy` are provided. */
export const SpacesLive = Layer.effect(Spaces, makeSpaces)
