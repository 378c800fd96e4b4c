import type { LoggedSpaceEvent } from "@spaces/domain"
import { Schema } from "effect"

export const TranscriptSegment = Schema.Struct({
  speaker: Schema.String,
  text: Schema.String,
  /** On the Space's timeline: ms since it went live (the replay's clock). */
  startMs: Schema.Number,
  endMs: Schema.Number,
  /** The CaptionAppended event's log position. */
  position: Schema.Number
}).annotations({ identifier: "TranscriptSegment" })

export const Transcript = Schema.Struct({
  spaceId: Schema.String,
  /** When the Space went live (epoch ms), or null if it never did: segment times count from it. */
  startedAt: Schema.NullOr(Schema.Number),
  segments: Schema.Array(TranscriptSegment)
}).annotations({ identifier: "Transcript" })
export type Transcript = typeof Transcript.Type

/** The Space's captions, in log order, from its events. */
export const transcriptOf = (spaceId: string, log: ReadonlyArray<LoggedSpaceEvent>): Transcript => {
  let startedAt: number | null = null
  const segments: Array<typeof TranscriptSegment.Type> = []
  for (const { event, position } of log) {
    if (event._tag === "SpaceStarted" && startedAt === null) startedAt = event.at
    if (event._tag === "CaptionAppended") segments.push({ ...event.segment, position })
  }
  return { spaceId, startedAt, segments }
}

const clock = (ms: number) => {
  const total = Math.max(0, Math.round(ms))
  const hours = Math.floor(total / 3_600_000)
  const minutes = Math.floor(total / 60_000) % 60
  const seconds = Math.floor(total / 1000) % 60
  const millis = total % 1000
  const two = (n: number) => String(n).padStart(2, "0")
  return `${two(hours)}:${two(minutes)}:${two(seconds)}.${String(millis).padStart(3, "0")}`
}

/** WebVTT cue text: `&`, `<` and `>` escaped; newlines would end the cue. */
const escapeCue = (text: string) =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\r\n]+/g, " ")

/** WebVTT (W3C): one cue per segment, the speaker as a voice span, times on the Space's timeline. */
export const webVtt = (transcript: Transcript): string => {
  const cues = transcript.segments.map((segment, i) => {
    // A cue must end after it starts; a segment of one instant shows for a tenth of a second.
    const end = Math.max(segment.endMs, segment.startMs + 100)
    return `${i + 1}\n${clock(segment.startMs)} --> ${clock(end)}\n<v ${escapeCue(segment.speaker)}>${escapeCue(segment.text)}`
  })
  return `WEBVTT\n\n${cues.map((cue) => `${cue}\n\n`).join("")}`
}
