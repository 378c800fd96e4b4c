/**
 * The replay's transcript: the Space's caption segments, each at its time on the Space's
 * timeline; while a recording plays, the segment being said is marked and kept in view.
 */
import * as api from "./api.js"
import { h, replaceChildren } from "./dom.js"

/** 83_000 → "1:23" (ms since the Space went live). */
const clock = (ms: number): string => {
  const total = Math.max(0, Math.floor(ms / 1000))
  const minutes = Math.floor(total / 60)
  return `${minutes}:${String(total % 60).padStart(2, "0")}`
}

export interface TranscriptPanel {
  readonly element: HTMLElement
  /** The recording is playing the moment `at` (epoch ms): mark the segment said then. */
  readonly playing: (at: number) => void
}

export const transcriptPanel = (spaceId: string, signal: AbortSignal): TranscriptPanel => {
  const list = h("ol", { class: "transcript", "aria-label": "Transcript" })
  const element = h(
    "section",
    { class: "card transcript-card", "aria-labelledby": "transcript-title", hidden: true },
    h("h2", { id: "transcript-title" }, "Transcript"),
    list
  )
  let startedAt: number | null = null
  let segments: ReadonlyArray<api.TranscriptSegment> = []
  let current = -1

  api.transcript(spaceId).then(
    (transcript) => {
      if (signal.aborted || transcript.segments.length === 0) return
      startedAt = transcript.startedAt
      segments = transcript.segments
      element.hidden = false
      replaceChildren(
        list,
        ...segments.map((s) =>
          h(
            "li",
            { "data-start": s.startMs, "data-end": s.endMs },
            h("span", { class: "meta" }, `${clock(s.startMs)} `),
            h("strong", {}, `${s.speaker}: `),
            s.text
          )
        )
      )
    },
    () => undefined
  )

  const playing = (at: number) => {
    if (startedAt === null) return
    const ms = at - startedAt
    // The last segment that started by now, while it lasts (and a moment after, to read it).
    let index = -1
    for (const [i, s] of segments.entries()) if (s.startMs <= ms && ms <= s.endMs + 1500) index = i
    if (index === current) return
    current = index
    for (const [i, li] of [...list.children].entries()) {
      li.classList.toggle("current", i === index)
      li.toggleAttribute("aria-current", i === index)
    }
    if (index >= 0) list.children[index]?.scrollIntoView({ block: "nearest" })
  }

  return { element, playing }
}
