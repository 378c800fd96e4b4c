import type { Position, ReadPosition } from "@eventstore/db-client"

/**
 * How an ESDB position becomes the port's global position (one `number`), and back.
 *
 * ESDB positions in `$all` are `{commit, prepare}` byte offsets in the transaction log, as
 * `bigint`s. The port's position is the commit position as a `number`:
 *
 * - Unique and strictly increasing in `$all` order: every event written through the gRPC append
 *   API (all our writes, and the server's own) is an implicitly committed prepare record, which
 *   the server's `$all` reader reports as `(LogPosition, LogPosition)` (commit = prepare), and an
 *   append's result as the last event's `(LogPosition, LogPosition)`. Events of legacy explicit
 *   transactions (TCP client only) share their commit record's position: a log containing them
 *   breaks "strictly increasing" and is not supported.
 * - Resumable: the number maps back to `{commit: n, prepare: n}`, the event's own position.
 *   `$all` reads include the event at that position and subscriptions may too, so the adapter
 *   drops positions `<= from` itself (the port's `from` is exclusive).
 * - Exact: a `number` holds integers exactly up to 2^53 - 1 (8 PiB of log). Beyond that the
 *   mapping refuses ({@link toNumber} throws) rather than round: a rounded position could repeat
 *   or skip events on resume.
 * - Not a count: positions are byte offsets, so they grow by the size of each record, not by 1.
 */
export const MAX_EXACT_POSITION = BigInt(Number.MAX_SAFE_INTEGER)

/** The port's number for an ESDB position: its commit position, exactly, or a RangeError. */
export const toNumber = (position: Position): number => {
  if (position.commit < 0n || position.commit > MAX_EXACT_POSITION)
    throw new RangeError(
      `EventStoreDB commit position ${position.commit} is outside 0..2^53-1: it has no exact number`
    )
  return Number(position.commit)
}

/** The ESDB position of our number: commit = prepare (see above); 0 (or less) is the start. */
export const toReadPosition = (position: number): ReadPosition => {
  if (position <= 0) return "start"
  if (!Number.isSafeInteger(position))
    throw new RangeError(`${position} is not an EventStoreDB position (a safe non-negative integer)`)
  return { commit: BigInt(position), prepare: BigInt(position) }
}

/**
 * Stream reads from servers before 22.6 carry no `$all` position: the server sends
 * `ulong.MaxValue` (2^64 - 1) for "none", and a server that does not know the field at all
 * leaves it 0 (the client's default). No event sits at 0 (the log starts with an epoch record).
 */
const NO_POSITION = 2n ** 63n

const isKnown = (position: Position | undefined): position is Position =>
  position !== undefined && position.commit > 0n && position.commit < NO_POSITION

/** A real position (not "none") that a `number` cannot hold exactly. */
export const isBeyondNumber = (position: Position | undefined): boolean =>
  isKnown(position) && position.commit > MAX_EXACT_POSITION

/** The port's number for a position the server may have left out: -1 when it did. */
export const knownPosition = (position: Position | undefined): number =>
  isKnown(position) ? toNumber(position) : -1
