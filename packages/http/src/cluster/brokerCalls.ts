import { Effect, Either, PubSub, Queue, Schema, type Scope } from "effect"
import type { EphemeralBusShape } from "./EphemeralBus.js"

/**
 * A broker request whose failure is logged (as `event`, with `what` was asked) and answered with
 * `fallback`: a broker outage degrades the cluster's view, it never fails a client's request.
 */
export const brokerAttempt =
  (component: string, event: string) =>
  <A>(what: string, run: () => Promise<A>, fallback: A): Effect.Effect<A> =>
    Effect.tryPromise(run).pipe(
      Effect.catchAll((error) =>
        Effect.as(
          Effect.logWarning(`${component}: broker request failed`).pipe(
            Effect.annotateLogs({ event, what, error: String(error) })
          ),
          fallback
        )
      )
    )

/**
 * Feeds the other nodes' messages on `topic` into this node's `local` PubSub, decoded with
 * `schema` (a malformed message is dropped: the broker is a boundary like any other).
 */
export const relayRemote = <A, I>(
  bus: EphemeralBusShape,
  topic: string,
  schema: Schema.Schema<A, I>,
  local: PubSub.PubSub<A>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const decode = Schema.decodeUnknownEither(schema)
    const remote = yield* bus.subscribe(topic)
    yield* Queue.take(remote).pipe(
      Effect.flatMap((payload) => {
        const decoded = decode(payload)
        return Either.isRight(decoded) ? PubSub.publish(local, decoded.right) : Effect.void
      }),
      Effect.forever,
      Effect.forkScoped
    )
  })
