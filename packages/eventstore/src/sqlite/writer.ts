import {
  type AppendResult,
  checkExpected,
  type EventData,
  type ExpectedRevision,
  isRetryOf,
  WrongExpectedVersion
} from "@spaces/domain"
import type Database from "better-sqlite3"

type LastEvent = [revision: number, id: string, position: number]

/** Streams whose last event the writer remembers (see `lastEvents`). */
const MAX_CACHED_STREAMS = 16_384

/** The outcome of a write: the append's result, or the conflict that refused it (nothing written). */
export type WriteOutcome = AppendResult | WrongExpectedVersion

/** One append of a group commit. */
export interface PendingAppend {
  readonly stream: string
  readonly events: ReadonlyArray<EventData>
  readonly expected: ExpectedRevision
}

/** Appends to several streams that stand or fall together (`EventStore.appendMany`). */
export interface PendingMany {
  readonly many: ReadonlyArray<PendingAppend>
}

/** One item of a group commit: an append, or several that are one atomic step. */
export type PendingWrite = PendingAppend | PendingMany

/** What an atomic multi-stream append gives: every append's result, or the conflict that refused them all. */
export type ManyOutcome = ReadonlyArray<AppendResult> | WrongExpectedVersion

/** One item's part of a group: its outcome, or the error that rolled back its part alone. */
export type GroupOutcome = WriteOutcome | ManyOutcome | { readonly _tag: "Failed"; readonly error: unknown }

/** Thrown inside a multi-stream append to roll back its savepoint: one of its streams conflicted. */
class Refused {
  constructor(readonly conflict: WrongExpectedVersion) {}
}

/**
 * Writes begun by any writer of this process (to any file): `knownRevision` asks `PRAGMA
 * data_version` at most once per run of microtasks, and a commit through another connection of
 * this process within that run must still count.
 */
let processWrites = 0

/**
 * The single writer of one SQLite file. better-sqlite3 is synchronous, so in one process two appends
 * can never interleave; across processes `BEGIN IMMEDIATE` takes the write lock before the expected
 * revision is read, so the check and the insert are one atomic step.
 */
export const makeWriter = (db: Database.Database) => {
  const lastOfStream = db
    .prepare<[string], LastEvent>(
      "SELECT revision, id, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1"
    )
    .raw(true)
  const idsAfter = db
    .prepare<[string, number], string>(
      "SELECT id FROM events WHERE stream = ? AND revision > ? ORDER BY revision"
    )
    .pluck(true)
  const lastPosition = db.prepare<[], number | null>("SELECT max(position) FROM events").pluck(true)
  const insert = db.prepare<[string, number, string, string, string, string]>(
    "INSERT INTO events (stream, revision, id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)"
  )

  /** Inserts `events` at `first`, `first + 1`, …; returns the position of the last one. */
  const insertAt = (stream: string, events: ReadonlyArray<EventData>, first: number): number => {
    let position = 0
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      position = Number(
        insert.run(
          stream,
          first + i,
          event.id,
          event.type,
          JSON.stringify(event.data) ?? "null",
          JSON.stringify(event.metadata)
        ).lastInsertRowid
      )
    }
    return position
  }

  /**
   * The last event of recently written or read streams, so that an append needs no lookup before
   * its insert. Kept only for what committed (cleared when a transaction fails). Another process may
   * append to the same file behind our back; revisions are dense and never deleted, so a stale entry
   * makes the insert at its next revision hit UNIQUE(stream, revision): the append is then run again
   * from a fresh lookup (`appendChecked`), and a conflict decided from the cache is re-checked
   * against the file before it is answered. Bounded: the oldest entry goes first.
   */
  const lastEvents = new Map<string, LastEvent>()
  const remember = (stream: string, last: LastEvent) => {
    if (lastEvents.size >= MAX_CACHED_STREAMS && !lastEvents.has(stream))
      lastEvents.delete(lastEvents.keys().next().value!)
    lastEvents.set(stream, last)
  }
  /**
   * After an insert: the entry, if any, is updated in place (nobody else holds it: lookups hand it
   * to the transaction that asked, which is done with it by then), so a stream's append in sequence
   * allocates no new one.
   */
  const wroteTo = (stream: string, revision: number, id: string, position: number) => {
    const known = lastEvents.get(stream)
    if (known === undefined) return remember(stream, [revision, id, position])
    known[0] = revision
    known[1] = id
    known[2] = position
  }
  const lookup = (stream: string): LastEvent | undefined => {
    const last = lastOfStream.get(stream)
    if (last !== undefined) remember(stream, last)
    return last
  }

  const checkedAppend = db.transaction(
    (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision): WriteOutcome => {
      // An empty append writes nothing that a stale entry would collide with: it asks the file.
      const cached = events.length > 0 ? lastEvents.get(stream) : undefined
      let last = cached ?? lookup(stream)
      const lastId = events.length > 0 ? events[events.length - 1]!.id : undefined
      // A retry after a lost acknowledgement: the stream already ends with these ids. Only then is
      // the tail read, so a normal append costs no lookup at all (or one, uncached).
      if (last !== undefined && lastId === last[1]) {
        const tail = idsAfter.all(stream, last[0] - events.length).map((id) => ({ id }))
        if (isRetryOf(tail, events)) return { nextRevision: last[0], position: last[2] }
      }
      let conflict = checkExpected(stream, expected, last === undefined ? -1 : last[0])
      // Decided from memory: the file has the last word (another process may have moved the stream).
      if (conflict && cached !== undefined) {
        last = lookup(stream)
        if (last !== undefined && lastId === last[1]) {
          const tail = idsAfter.all(stream, last[0] - events.length).map((id) => ({ id }))
          if (isRetryOf(tail, events)) return { nextRevision: last[0], position: last[2] }
        }
        conflict = checkExpected(stream, expected, last === undefined ? -1 : last[0])
      }
      if (conflict) return conflict
      const lastRevision = last === undefined ? -1 : last[0]
      if (events.length === 0) return { nextRevision: lastRevision, position: lastPosition.get() ?? 0 }
      const position = insertAt(stream, events, lastRevision + 1)
      const nextRevision = lastRevision + events.length
      wroteTo(stream, nextRevision, lastId!, position)
      return { nextRevision, position }
    }
  )

  const uncheckedInsert = db.transaction(
    (stream: string, events: ReadonlyArray<EventData>, first: number): WriteOutcome => ({
      nextRevision: first + events.length - 1,
      position: insertAt(stream, events, first)
    })
  )

  /**
   * Several appends in one transaction: each in a savepoint of its own (better-sqlite3 nests
   * transactions so), so that one refused or failed append leaves the others' writes in place.
   */
  let groupCommits = 0
  const groupAppend = db.transaction(
    (group: ReadonlyArray<PendingWrite>): Array<GroupOutcome> =>
      group.map((item): GroupOutcome => {
        try {
          return writeItem(item, false)
        } catch (failure) {
          // Some failures (disk full, I/O) roll back the whole transaction, not the savepoint: the
          // group ends there and fails as a whole, rather than the next items committing alone.
          if (!db.inTransaction) throw failure
          return { _tag: "Failed", error: failure }
        }
      })
  )

  /**
   * Runs `transaction` (the append in a transaction or savepoint of its own). A UNIQUE violation
   * means the cached last event was stale: forget it and run once more from the file, where a second
   * violation is a real conflict. Any other failure rolled the writes back: forget the stream too.
   */
  const appendChecked = (
    transaction: (
      stream: string,
      events: ReadonlyArray<EventData>,
      expected: ExpectedRevision
    ) => WriteOutcome,
    stream: string,
    events: ReadonlyArray<EventData>,
    expected: ExpectedRevision
  ): WriteOutcome => {
    try {
      return transaction(stream, events, expected)
    } catch (error) {
      const wasCached = lastEvents.delete(stream)
      if (!(wasCached && isUniqueViolation(error))) return onConstraint(error, stream, expected)
    }
    try {
      return transaction(stream, events, expected)
    } catch (error) {
      lastEvents.delete(stream)
      return onConstraint(error, stream, expected)
    }
  }

  /** Every stream at its expected revision, or the first conflict and nothing written (rolled back). */
  const checkedMany = db.transaction(
    (appends: ReadonlyArray<PendingAppend>): Array<AppendResult> =>
      appends.map(({ stream, events, expected }) => {
        const outcome = appendChecked(checkedAppend, stream, events, expected)
        if (outcome instanceof WrongExpectedVersion) throw new Refused(outcome)
        return outcome
      })
  )

  /** One item of a group, in a transaction or savepoint of its own (`alone`: the transaction). */
  const writeItem = (item: PendingWrite, alone: boolean): GroupOutcome => {
    if (!("many" in item))
      return appendChecked(
        alone ? checkedAppend.immediate : checkedAppend,
        item.stream,
        item.events,
        item.expected
      )
    try {
      return alone ? checkedMany.immediate(item.many) : checkedMany(item.many)
    } catch (error) {
      // Rolled back: what its appends remembered never committed.
      for (const { stream } of item.many) lastEvents.delete(stream)
      if (error instanceof Refused) return error.conflict
      throw error
    }
  }

  /** A UNIQUE(stream, revision) violation means another writer took the revision: a conflict. */
  const onConstraint = (error: unknown, stream: string, expected: ExpectedRevision): WriteOutcome => {
    if (!isUniqueViolation(error)) throw error
    const last = lastOfStream.get(stream)
    return new WrongExpectedVersion({
      stream,
      expected,
      actual: last === undefined ? "no_stream" : last[0]
    })
  }

  /**
   * `PRAGMA data_version` changes when another connection commits to the file (never for this
   * one's own commits): while it stays put, what `lastEvents` holds is the file's truth.
   */
  const dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck(true)
  let seenVersion = dataVersion.get()
  // Asked once per run of microtasks (a request's loads come together), as a read at its start
  // would be: the pragma costs more than a map lookup, and a join asks for three streams.
  let versionChecked = false
  // This writer's own writes never change data_version: only the other writers' count.
  let ownWrites = 0
  let othersSeen = processWrites
  const forget = () => {
    versionChecked = false
  }

  /** `appendGroup` of a group of one, answering its outcome (no arrays): its transaction is its own. */
  const appendOne = (item: PendingWrite): GroupOutcome => {
    processWrites++
    ownWrites++
    const outcome = writeItem(item, true)
    groupCommits++
    return outcome
  }

  return {
    /**
     * The stream's last revision as far as this writer knows it for certain: remembered, and no
     * other connection committed since (else everything remembered is forgotten, and it reads).
     */
    knownRevision: (stream: string): number | undefined => {
      if (!versionChecked || othersSeen !== processWrites - ownWrites) {
        const version = dataVersion.get()
        if (!versionChecked) queueMicrotask(forget)
        versionChecked = true
        othersSeen = processWrites - ownWrites
        if (version !== seenVersion) {
          seenVersion = version
          lastEvents.clear()
          return undefined
        }
      }
      return lastEvents.get(stream)?.[0]
    },
    /** Appends atomically if the stream is at `expected`; throws only on I/O or driver failure. */
    append: (stream: string, events: ReadonlyArray<EventData>, expected: ExpectedRevision): WriteOutcome => {
      processWrites++
      ownWrites++
      return appendChecked(checkedAppend.immediate, stream, events, expected)
    },
    /**
     * Appends a group in one transaction (one commit for all), each append with its own check and
     * outcome; throws only if the transaction as a whole failed (then none of them was written).
     */
    appendGroup: (group: ReadonlyArray<PendingWrite>): ReadonlyArray<GroupOutcome> => {
      // Alone, an item needs no savepoint: its transaction is its own.
      if (group.length === 1) return [appendOne(group[0]!)]
      processWrites++
      ownWrites++
      let outcomes: ReadonlyArray<GroupOutcome>
      try {
        outcomes = groupAppend.immediate(group)
      } catch (error) {
        // Rolled back as a whole: what the savepoints remembered never committed.
        lastEvents.clear()
        throw error
      }
      groupCommits++
      return outcomes
    },
    appendOne,
    /** The log's last position (0: empty): the primary key's last entry, one B-tree descent. */
    lastPosition: (): number => lastPosition.get() ?? 0,
    /** How many group transactions committed so far (for tests: appends do share commits). */
    groupCommits: () => groupCommits,
    /**
     * Inserts at a given revision with no expected-revision check: what a racing writer with a stale
     * read would do. Exists to prove the constraint turns such a race into a conflict, not a crash.
     */
    insertUnchecked: (stream: string, events: ReadonlyArray<EventData>, first: number): WriteOutcome => {
      processWrites++
      ownWrites++
      lastEvents.delete(stream)
      try {
        return uncheckedInsert.immediate(stream, events, first)
      } catch (error) {
        return onConstraint(error, stream, first === 0 ? "no_stream" : first - 1)
      }
    }
  }
}

export type SqliteWriter = ReturnType<typeof makeWriter>

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Error &&
  "code" in error &&
  (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY")
