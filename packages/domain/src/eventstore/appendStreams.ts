import { Effect } from "effect"
import type { AppendResult, EventStoreShape, StreamAppend } from "./EventStore.js"
import type { EventStoreUnavailable, WrongExpectedVersion } from "./EventStoreError.js"

/**
 * Appends to several streams: in one atomic step where the store has `appendMany`, else one stream
 * after the other in the order given (a conflict then leaves the earlier appends written; callers
 * decide again on the newer state, as after any conflict).
 */
export const appendStreams = (
  store: EventStoreShape,
  appends: ReadonlyArray<StreamAppend>
): Effect.Effect<ReadonlyArray<AppendResult>, WrongExpectedVersion | EventStoreUnavailable> =>
  appends.length === 1
    ? Effect.map(store.append(appends[0]!.stream, appends[0]!.events, appends[0]!.expected), (r) => [r])
    : store.appendMany !== undefined
      ? store.appendMany(appends)
      : Effect.forEach(appends, ({ stream, events, expected }) => store.append(stream, events, expected))
