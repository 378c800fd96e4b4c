import type { SpaceId, UserId } from "@spaces/domain"
import { Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"

/** A user's first connection to a Space opened, or their last one closed. */
export interface PresenceChange {
  readonly spaceId: SpaceId
  readonly user: UserId
  readonly connected: boolean
}

/**
 * Who holds a connection to which Space (a room's live stream, a media transport). Connections are
 * facts of the edge, not events: this port only counts them. The in-process layer serves one node;
 * several nodes would back it with a broker (counts per user per Space across nodes).
 */
export interface ConnectionTrackerShape {
  /** Counts the connection `key` of `user` to `spaceId` (opening a key twice counts once). */
  readonly open: (key: string, spaceId: SpaceId, user: UserId) => Effect.Effect<void>
  /** Stops counting `key` (unknown keys are ignored, so a release may come twice). */
  readonly close: (key: string) => Effect.Effect<void>
  readonly isConnected: (spaceId: SpaceId, user: UserId) => Effect.Effect<boolean>
  /** Transitions from now on: the first connection opened, the last one closed. */
  readonly changes: Effect.Effect<Queue.Dequeue<PresenceChange>, never, Scope.Scope>
}

export class ConnectionTracker extends Context.Tag("@spaces/http/ConnectionTracker")<
  ConnectionTracker,
  ConnectionTrackerShape
>() {}

const pair = (spaceId: SpaceId, user: UserId) => JSON.stringify([spaceId, user])

/** The tracker of one process: connection counts in memory, changes on a PubSub. */
export const makeInProcessConnectionTracker = Effect.gen(function* () {
  const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<PresenceChange>(), PubSub.shutdown)
  const owners = new Map<string, { readonly spaceId: SpaceId; readonly user: UserId }>()
  const counts = new Map<string, number>()
  const publish = (change: PresenceChange) => PubSub.publish(pubsub, change)
  return ConnectionTracker.of({
    open: (key, spaceId, user) =>
      Effect.suspend(() => {
        if (owners.has(key)) return Effect.void
        owners.set(key, { spaceId, user })
        const k = pair(spaceId, user)
        const n = (counts.get(k) ?? 0) + 1
        counts.set(k, n)
        return n === 1 ? publish({ spaceId, user, connected: true }) : Effect.void
      }),
    close: (key) =>
      Effect.suspend(() => {
        const owner = owners.get(key)
        if (owner === undefined) return Effect.void
        owners.delete(key)
        const k = pair(owner.spaceId, owner.user)
        const n = (counts.get(k) ?? 1) - 1
        if (n > 0) {
          counts.set(k, n)
          return Effect.void
        }
        counts.delete(k)
        return publish({ ...owner, connected: false })
      }),
    isConnected: (spaceId, user) => Effect.sync(() => counts.has(pair(spaceId, user))),
    changes: PubSub.subscribe(pubsub)
  })
})

export const InProcessConnectionTracker = Layer.scoped(ConnectionTracker, makeInProcessConnectionTracker)
