import { type EventMetadata, MalformedEvent, type RecordedEvent } from "@spaces/domain"

/** The columns every read selects, in this order; statements run in raw mode (rows as arrays). */
export const EVENT_COLUMNS = "position, stream, revision, id, type, data, metadata"

export type EventRow = [
  position: number,
  stream: string,
  revision: number,
  id: string,
  type: string,
  data: string,
  metadata: string
]

/**
 * A recorded event read from a row. A class, not an object literal, on purpose: V8 tracks an
 * object literal's allocation site and, once most of a site's recent objects survive a young
 * collection (a page of events still being consumed when the collector runs), allocates that site's
 * objects straight in the old generation ("pretenuring"). Each event there points to young strings
 * and payloads, which then survive every young collection until a full one: a `readAll` through
 * Effect's stream machinery spent about half its time in the garbage collector so. A constructor
 * call has no allocation site: the events stay young and die young.
 */
class RowEvent implements RecordedEvent {
  constructor(
    readonly id: string,
    readonly type: string,
    readonly data: unknown,
    readonly metadata: EventMetadata,
    readonly streamId: string,
    readonly revision: number,
    readonly position: number
  ) {}
}

/**
 * Turns raw rows into recorded events, or names the first row whose JSON does not parse. One pass,
 * one object per event, in place: each row (an array, so no intermediate row objects are built) is
 * replaced by its event in the driver's own array, which is then the page, so no second array is
 * allocated (a fresh one per page is an allocation site V8 may pretenure, see `RowEvent`). The rows
 * are consumed: on a malformed row, the array is left half converted, for nobody.
 */
export const decodeRows = (rows: Array<EventRow>): Array<RecordedEvent> | MalformedEvent => {
  const events = rows as Array<EventRow | RecordedEvent>
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    let data: unknown
    let metadata: EventMetadata
    try {
      data = JSON.parse(row[5])
      metadata = JSON.parse(row[6]) as EventMetadata
    } catch (cause) {
      return new MalformedEvent({
        stream: row[1],
        revision: row[2],
        type: row[4],
        reason: cause instanceof Error ? cause.message : String(cause)
      })
    }
    events[i] = new RowEvent(row[3], row[4], data, metadata, row[1], row[2], row[0])
  }
  return events as Array<RecordedEvent>
}
