import type { MalformedEvent, RecordedEvent, SpaceId, TopicSlug, UserId } from "@spaces/domain"
import { Data, Either } from "effect"
import type { ViewChange } from "../ReadModels.js"
import { Overlay, type ProjectionStore, type ReadView, type Storage, type Writes } from "../store/Storage.js"
import { decodeDomainEvent, type DomainEventTag, type Projection } from "./Projection.js"
import type { StepRows } from "./StepRows.js"

/** The stored checkpoint moved under the runner (another process, an operator's rebuild): reload. */
export class CheckpointMoved extends Data.TaggedError("CheckpointMoved")<{ readonly projection: string }> {
  override get message() {
    return `the checkpoint of ${this.projection} moved under this runner: another process wrote it`
  }
}

/** A step threw on an event: a bug in the projection, reported like a malformed event. */
export class StepFailed extends Data.TaggedError("StepFailed")<{
  readonly stream: string
  readonly revision: number
  readonly type: string
  readonly reason: string
}> {
  override get message() {
    return `projection step failed on ${this.type} at ${this.stream}@${this.revision}: ${this.reason}`
  }
}

/** Where a runner is: the last applied position and the recording time of that event. */
export interface Cursor {
  position: number
  at: number | null
}

/**
 * A batch of the log, each event decoded at most once, on first demand, whichever projections
 * read it: the runners share one reader, and a type nobody reads is never decoded.
 */
export class DecodedBatch {
  private readonly decoded: Array<ReturnType<typeof decodeDomainEvent> | null>

  constructor(readonly events: ReadonlyArray<RecordedEvent>) {
    this.decoded = new Array(events.length).fill(null)
  }

  /** The `i`th event decoded; `undefined` for streams the projections don't read. */
  decode(i: number) {
    let decoded = this.decoded[i]
    if (decoded === null) {
      decoded = decodeDomainEvent(this.events[i] as RecordedEvent)
      this.decoded[i] = decoded
    }
    return decoded
  }
}

/** A projection stepped through a batch, not yet committed. */
export interface Stepped {
  /** The rows the steps wrote, to commit with the checkpoint `to`. */
  readonly writes: Writes
  /** The last position applied (the cursor's when nothing was) and when it was recorded. */
  readonly to: number
  readonly at: number | null
  /** Events applied (those at or below the cursor are skipped: idempotent by position). */
  readonly applied: number
  readonly changes: ReadonlyArray<ViewChange>
  /** Why the batch stopped early; the events before it are in `writes`. */
  readonly error?: MalformedEvent | StepFailed
  /** The steps read the store's rows (or `rows`), not its copy or staged rows: `writes` are all of them. */
  readonly overStore: boolean
}

/** The steps' `emit` when nobody listens (a rebuild): no change is kept. */
const ignore = () => {}

/**
 * Steps `projection` through the events of `batch` after `cursor`, over its stored rows (or the
 * store's copy of them), without writing anything: the caller commits the writes with the
 * checkpoint. Events not after the cursor are skipped, so a batch delivered twice, or overlapping
 * a previous one after a resubscribe, changes nothing.
 */
export const stepBatch = (
  projection: Projection,
  storage: ProjectionStore,
  cursor: Cursor,
  batch: DecodedBatch,
  options: {
    readonly collectChanges?: boolean
    /** Where the steps read the stored rows, when not from the store's copy: see `StepRows`. */
    readonly rows?: ReadView
  } = {}
): Stepped => {
  // Staged (a rebuild from scratch): straight into the staged rows, a failed event undone.
  const staged = storage.stagedTx?.()
  const copy = staged === undefined ? storage.stepRead?.() : undefined
  const overlay =
    staged !== undefined
      ? undefined
      : copy !== undefined
        ? new Overlay(copy, false)
        : options.rows !== undefined
          ? new Overlay(options.rows, false)
          : new Overlay(storage.read)
  const tx = staged?.tx ?? (overlay as Overlay)
  const changes: Array<ViewChange> = []
  const emit = options.collectChanges === false ? ignore : (change: ViewChange) => void changes.push(change)
  const { events } = batch
  let position = cursor.position
  let at = cursor.at
  let applied = 0
  let error: MalformedEvent | StepFailed | undefined
  for (let i = 0; i < events.length; i++) {
    const recorded = events[i] as RecordedEvent
    if (recorded.position <= position) continue
    if (projection.handles.has(recorded.type as DomainEventTag)) {
      const decoded = batch.decode(i)
      if (decoded !== undefined) {
        if (Either.isLeft(decoded)) {
          error = decoded.left
          break
        }
        try {
          staged?.begin()
          projection.step(tx, decoded.right, emit)
        } catch (cause) {
          staged?.rollback()
          error = new StepFailed({
            stream: recorded.streamId,
            revision: recorded.revision,
            type: recorded.type,
            reason: cause instanceof Error ? cause.message : String(cause)
          })
          break
        }
      }
    }
    position = recorded.position
    at = recorded.metadata.recordedAt
    applied++
  }
  const stepped = {
    writes: overlay?.writes ?? new Map(),
    to: position,
    at,
    applied,
    changes,
    overStore: staged === undefined && copy === undefined
  }
  return error === undefined ? stepped : { ...stepped, error }
}

export interface BatchOutcome {
  /** Events applied and committed. */
  readonly applied: number
  readonly changes: ReadonlyArray<ViewChange>
  /** Why the batch stopped early; the events before it are committed. */
  readonly error?: MalformedEvent | StepFailed | CheckpointMoved
}

/**
 * Applies a batch of the log to one projection and commits the writes with the new checkpoint in
 * one transaction (see `stepBatch`); moves `cursor` when committed.
 */
export const applyBatch = (
  projection: Projection,
  storage: ProjectionStore,
  cursor: Cursor,
  events: Iterable<RecordedEvent>
): BatchOutcome => {
  const stepped = stepBatch(projection, storage, cursor, new DecodedBatch([...events]))
  if (stepped.to > cursor.position) {
    if (!storage.commit(stepped.writes, cursor.position, stepped.to, projection.version))
      return { applied: 0, changes: [], error: new CheckpointMoved({ projection: projection.name }) }
    cursor.position = stepped.to
    cursor.at = stepped.at
  }
  const { applied, changes, error } = stepped
  return error === undefined ? { applied, changes } : { applied, changes, error }
}

/** A projection and where it is in the log. */
export interface Placed {
  readonly projection: Projection
  readonly cursor: Cursor
  /** The rows its steps read, kept between batches (a live runner's): taught what each commit wrote. */
  readonly rows?: StepRows
}

/**
 * Steps each projection through `batch` from its own cursor, then commits them all in one
 * transaction, each one's rows with its own checkpoint move, and moves the cursors of those
 * committed. Not committed: nothing after its cursor to apply, or (`refused`) its checkpoint had
 * moved elsewhere; then it wrote nothing and its cursor stays.
 */
export const applyBatchToAll = (
  storage: Storage,
  placed: ReadonlyArray<Placed>,
  batch: DecodedBatch,
  options: { readonly collectChanges?: boolean } = {}
): ReadonlyArray<{ readonly outcome: Stepped; readonly refused: boolean }> => {
  const stepAll = () =>
    placed.map(({ projection, cursor, rows }) =>
      stepBatch(
        projection,
        storage.projection(projection.name),
        cursor,
        batch,
        rows === undefined ? options : { ...options, rows: rows.view }
      )
    )
  const stepped = storage.snapshot === undefined ? stepAll() : storage.snapshot(stepAll)
  const moving = placed.flatMap((p, i) => ((stepped[i] as Stepped).to > p.cursor.position ? [i] : []))
  const committed = storage.commitAll(
    moving.map((i) => {
      const { projection, cursor } = placed[i] as Placed
      const { writes, to } = stepped[i] as Stepped
      return { projection: projection.name, writes, from: cursor.position, to, version: projection.version }
    })
  )
  const refused = new Set<number>()
  moving.forEach((i, k) => {
    const { cursor, rows } = placed[i] as Placed
    const { to, at, writes, overStore } = stepped[i] as Stepped
    if (committed[k] !== true) {
      refused.add(i)
      rows?.clear()
    } else {
      cursor.position = to
      cursor.at = at
      // Stepped over the store's copy or staged rows: what reached the database is not in `writes`.
      if (overStore) rows?.learn(writes)
      else rows?.clear()
    }
  })
  return stepped.map((outcome, i) => ({ outcome, refused: refused.has(i) }))
}

/** Merges a batch's changes: one per Space and user, one per kind naming every topic, user or Space. */
export const mergeChanges = (changes: ReadonlyArray<ViewChange>): ReadonlyArray<ViewChange> => {
  if (changes.length <= 1) return changes
  const rooms = new Set<string>()
  const creators = new Set<string>()
  const topics = new Set<TopicSlug>()
  const users = new Set<UserId>()
  const listed = new Set<SpaceId>()
  let everyone = false
  const out: Array<ViewChange> = []
  for (const change of changes) {
    switch (change._tag) {
      case "Room":
        if (!rooms.has(change.spaceId)) {
          rooms.add(change.spaceId)
          out.push(change)
        }
        break
      case "Creator":
        if (!creators.has(change.user)) {
          creators.add(change.user)
          out.push(change)
        }
        break
      case "Topic":
        for (const topic of change.topics) topics.add(topic)
        break
      case "Feed":
        if (change.users === "all") everyone = true
        else for (const user of change.users) users.add(user)
        break
      case "FeedSpaces":
        for (const spaceId of change.spaceIds) listed.add(spaceId)
        break
      // Each notification is news of its own (the pusher sends each): kept, in order.
      case "Notified":
      case "NotificationsRead":
        out.push(change)
        break
      default:
        change satisfies never
    }
  }
  if (topics.size > 0) out.push({ _tag: "Topic", topics: [...topics] })
  if (everyone) out.push({ _tag: "Feed", users: "all" })
  else if (users.size > 0) out.push({ _tag: "Feed", users: [...users] })
  if (listed.size > 0) out.push({ _tag: "FeedSpaces", spaceIds: [...listed] })
  return out
}
