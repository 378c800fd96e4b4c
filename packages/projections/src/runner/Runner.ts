import {
  GATHER_MS,
  type LogFollowerShape,
  type LogHead,
  type RecordedEvent,
  sleepRealTime
} from "@spaces/domain"
import { Chunk, Effect, Stream } from "effect"
import type { ViewChange } from "../ReadModels.js"
import type { ProjectionStore, Storage } from "../store/Storage.js"
import type { RunnerStatus } from "../views.js"
import { applyBatchToAll, CheckpointMoved, type Cursor, DecodedBatch, mergeChanges } from "./applyBatch.js"
import type { Projection } from "./Projection.js"
import { StepRows } from "./StepRows.js"

/** Events between two progress lines while the runners are far behind (a rebuild). */
const PROGRESS_EVERY = 100_000

/**
 * After a live batch, how long the runners let the log's new events gather before they read it
 * again (see `liveBatchMs`). Under a burst of joins the log grows by a group commit of two or three
 * joins per turn of the event loop, and each batch costs the views a read transaction, a write
 * transaction (a checkpoint row per projection, a WAL write) and a wake-up of every stream
 * downstream, whatever its size: one batch per pause instead carries the commits of the whole pause.
 * The follower's pause: the runners take a batch per delivery of it.
 */
export const LIVE_BATCH_MS = GATHER_MS

/** One projection's place in the log, as the shared reader moves it. */
export interface Runner {
  readonly projection: Projection
  readonly cursor: Cursor
  readonly status: () => RunnerStatus
}

export interface Runners {
  readonly runners: ReadonlyArray<Runner>
  /** Reads the log for every projection, forever (until interrupted, or until all have stopped). */
  readonly run: Effect.Effect<void>
}

interface State {
  readonly projection: Projection
  readonly storage: ProjectionStore
  readonly cursor: Cursor
  /** The rows its steps read, kept between batches; forgotten at each (re)start. */
  readonly rows: StepRows
  /** Why the projection stopped, once it has. */
  error: string | null
}

/**
 * The projections' runners, sharing one stream of the process's log follower: each batch it delivers is read
 * and decoded once, stepped through every projection from its own checkpoint (one that starts
 * behind the others, after a version change, skips nothing: the subscription starts at the
 * lowest checkpoint and the others skip what they have), and committed for all of them in one
 * transaction, each projection's rows with its own checkpoint.
 *
 * A malformed event or a failing step stops the projections that read it: their status says
 * "failed" with the error (stream and revision), their checkpoint stays before the event, and
 * the other projections carry on. Skipping would silently make the view wrong; a restart after a
 * fix (or a corrected log) resumes exactly there.
 */
export const makeRunners = (options: {
  readonly projections: ReadonlyArray<Projection>
  readonly storage: Storage
  /** The process's one log follower: the runners read the log through it, from their lowest checkpoint. */
  readonly log: Pick<LogFollowerShape, "from" | "head">
  readonly publish: (changes: ReadonlyArray<ViewChange>) => Effect.Effect<void>
  /** Called after each batch committed and when a projection stops: wakes read-your-writes waits. */
  readonly progressed: () => void
  /**
   * Once every projection is live, the pause after each batch before the next is read (default
   * `LIVE_BATCH_MS`; 0: none). A write that comes after a quiet spell is applied at once; those
   * that follow it within the pause wait for its end, together. Catching up never pauses.
   */
  readonly liveBatchMs?: number
}): Runners => {
  const { storage, log, publish, progressed } = options
  const liveBatchMs = options.liveBatchMs ?? LIVE_BATCH_MS
  const states: ReadonlyArray<State> = options.projections.map((projection) => {
    const store = storage.projection(projection.name)
    return {
      projection,
      storage: store,
      cursor: { position: 0, at: null },
      rows: new StepRows(store.read),
      error: null
    }
  })
  /**
   * The end of the log as far as known: the follower's head, or a runner's checkpoint beyond it
   * (read directly, or committed before a restart).
   */
  const head = (): LogHead => {
    const followed = log.head()
    let { position, at } = followed
    for (const state of states)
      if (state.cursor.position > position) {
        position = state.cursor.position
        at = state.cursor.at
      }
    return { position, at, known: followed.known }
  }
  /** Live: it has applied everything up to the log's end, as far as that is known. */
  const caughtUp = (state: State, end: LogHead = head()) => end.known && state.cursor.position >= end.position
  const running = () => states.filter((state) => state.error === null)

  /** Loads the checkpoint, dropping the rows when the projection's version changed. */
  const start = ({ projection, storage, cursor, rows }: State) => {
    rows.clear()
    const checkpoint = storage.checkpoint()
    if (checkpoint === undefined || checkpoint.version !== projection.version) {
      storage.reset(projection.version)
      cursor.position = 0
      cursor.at = null
    } else if (checkpoint.position !== cursor.position) {
      cursor.position = checkpoint.position
      cursor.at = null
    }
  }

  /** Stops `state`'s projection at once; answers the log line saying so. */
  const stop = (state: State, message: string): Effect.Effect<void> => {
    state.error = message
    state.storage.fail(state.projection.version, message)
    return Effect.logError(`projection ${state.projection.name} stopped: ${message}`)
  }

  /**
   * Steps every running projection through `events` and commits them together. Answers the view
   * changes of what was committed, the projections to stop (and why), and one whose checkpoint
   * had moved under it, if any (then everything reloads).
   */
  const applyToAll = (events: ReadonlyArray<RecordedEvent>) => {
    const stepping = running()
    const applied = applyBatchToAll(storage, stepping, new DecodedBatch(events))
    const changes: Array<ViewChange> = []
    const failures: Array<readonly [State, string]> = []
    let moved: State | undefined
    applied.forEach(({ outcome, refused }, i) => {
      const state = stepping[i] as State
      if (refused) {
        moved ??= state
        return
      }
      for (const change of outcome.changes) changes.push(change)
      if (outcome.error !== undefined) failures.push([state, outcome.error.message])
    })
    return { changes, failures, moved }
  }

  const progress = (from: number, at: number) =>
    Effect.suspend(() => {
      const end = head().position
      return Effect.logInfo(
        `projections: catching up, at ${at.toLocaleString("en-US")} of ${end.toLocaleString("en-US")} (${Math.floor((at * 100) / Math.max(1, end))}%), ${(at - from).toLocaleString("en-US")} events since start`
      )
    })

  const once = Effect.suspend(() => {
    const active = running()
    if (active.length === 0) return Effect.void
    for (const state of active) start(state)
    const from = Math.min(...active.map((state) => state.cursor.position))
    let nextProgress = from + PROGRESS_EVERY
    // Chunk by chunk, for as long as a projection is running (when the last stops, the reader does).
    // Not `Stream.chunks` + `runForEachWhile`: its sink nests a frame per element that never pops
    // on an endless stream, and each frame kept its batch of the log (the live server's heap grew
    // by every event it applied).
    return log.from(from).pipe(
      Stream.mapChunksEffect((chunk) =>
        Effect.suspend(() => {
          // The subscription hands over an empty chunk when it wakes to find nothing new.
          if (Chunk.isEmpty(chunk)) return Effect.succeed(Chunk.of(true))
          const { changes, failures, moved } = applyToAll(Chunk.toReadonlyArray(chunk))
          // Stopped now (not when the log lines run), so that what follows sees them stopped.
          const stops = failures.map(([state, message]) => stop(state, message))
          const after = running()
          const lowest = Math.min(...after.map((state) => state.cursor.position))
          const end = head()
          for (const state of after) if (caughtUp(state, end)) state.storage.settle?.()
          progressed()
          const live = after.every((state) => caughtUp(state, end))
          const report = lowest >= nextProgress && !live
          if (report) nextProgress = lowest + PROGRESS_EVERY
          return Effect.all(
            [
              ...stops,
              publish(mergeChanges(changes)),
              report ? progress(from, lowest) : Effect.void,
              moved === undefined
                ? Effect.void
                : Effect.fail(new CheckpointMoved({ projection: moved.projection.name })),
              // Committed and published: what comes next gathers meanwhile (see `LIVE_BATCH_MS`).
              live && liveBatchMs > 0 && after.length > 0 ? sleepRealTime(liveBatchMs) : Effect.void
            ],
            { discard: true }
          ).pipe(Effect.as(Chunk.of(after.length > 0)))
        })
      ),
      Stream.takeWhile((more) => more),
      Stream.runDrain
    )
  })

  const run: Effect.Effect<void> = once.pipe(
    Effect.catchTags({
      CheckpointMoved: (e) =>
        Effect.zipRight(
          Effect.logInfo(`projection ${e.projection}: checkpoint moved elsewhere, reloading`),
          run
        ),
      // The store cannot parse a stored event: no projection can read past it.
      MalformedEvent: (e) =>
        Effect.suspend(() => {
          const stops = running().map((state) => stop(state, e.message))
          progressed()
          return Effect.all(stops, { discard: true })
        })
    })
  )

  return {
    run,
    runners: states.map((state) => ({
      projection: state.projection,
      cursor: state.cursor,
      status: () => {
        const { projection, cursor, error } = state
        const end = head()
        const lagEvents = Math.max(0, end.position - cursor.position)
        return {
          name: projection.name,
          version: projection.version,
          checkpoint: cursor.position,
          head: end.position,
          lagEvents,
          lagSeconds:
            lagEvents === 0 || end.at === null ? 0 : Math.max(0, (end.at - (cursor.at ?? end.at)) / 1000),
          state: error !== null ? "failed" : caughtUp(state, end) ? "live" : "catching-up",
          error
        }
      }
    }))
  }
}
