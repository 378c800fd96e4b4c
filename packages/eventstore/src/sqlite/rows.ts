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
 * Turns raw rows into recorded events, or names the first row whose JSON does not parse. One pass,
 * one object per event: the rows arrive as arrays so no intermediate row objects are built.
 */
export const decodeRows = (rows: ReadonlyArray<EventRow>): Array<RecordedEvent> | MalformedEvent => {
  const events = new Array<RecordedEvent>(rows.length)
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
    events[i] = {
      id: row[3],
      type: row[4],
      data,
      metadata,
      streamId: row[1],
      revision: row[2],
      position: row[0]
    }
  }
  return events
}
