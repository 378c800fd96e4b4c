import { type Position, type ReadPosition, START } from "@eventstore/db-client"

/**
 * ESDB positions in the $all log are `{commit, prepare}` byte offsets in the transaction file; our
 * port's global position is one `number`. We use the commit position.
 *
 * Assumption (documented, relied upon): every event written through the gRPC append API (all our
 * writes; explicit TCP-era transactions are not used) is its own commit record, so its commit
 * position equals its prepare position and is unique and strictly increasing in $all order. The
 * server's $all reader reports such events as `TFPos(prepare.LogPosition, prepare.LogPosition)`.
 * A number holds byte offsets exactly up to 2^53 (8 PiB of log), far past any single node.
 * Events written by legacy explicit transactions share one commit position; a log containing them
 * would break "strictly increasing", and we do not support it.
 */
export const toNumber = (position: Position): number => Number(position.commit)

/** The ESDB position of our number: commit = prepare (see above); 0 is the start of the log. */
export const toReadPosition = (position: number): ReadPosition =>
  position <= 0 ? START : { commit: BigInt(position), prepare: BigInt(position) }

/** ESDB reports "no position" in stream reads of old servers as 2^64 - 1. */
const NO_POSITION = 2n ** 63n

export const knownPosition = (position: Position | undefined): number =>
  position === undefined || position.commit >= NO_POSITION ? -1 : toNumber(position)
