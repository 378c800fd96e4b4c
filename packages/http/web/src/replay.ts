/**
 * The replay of a Space: its full event log (the source of truth), its state at a chosen
 * point of that log, rebuilt by the server from the events alone, and its recording if any.
 */
import * as api from "./api.js"
import { announce, formatTime, h, replaceChildren } from "./dom.js"
import { recordingPlayers } from "./recordingPlayers.js"
import { transcriptPanel } from "./transcriptPanel.js"
import type { LoggedEvent } from "./types.js"

/** A one-line reading of an event for people (the raw event is one click away). */
const describe = (entry: LoggedEvent): string => {
  const e = entry.event
  const who = typeof e.user === "string" ? e.user : typeof e.by === "string" ? e.by : ""
  return who === "" ? e._tag : `${e._tag} — ${who}`
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {}

/** Participants arrive as a map encoded as [user, participant] pairs, or as a plain list. */
const participantsOf = (
  state: Record<string, unknown>
): ReadonlyArray<{ user: string; role: string; muted: boolean }> => {
  const raw = state.participants
  if (!Array.isArray(raw)) return []
  return raw.map((item: unknown) => {
    if (Array.isArray(item)) {
      const p = asRecord(item[1])
      return { user: String(item[0]), role: String(p.role), muted: p.muted === true }
    }
    const p = asRecord(item)
    return { user: String(p.user), role: String(p.role), muted: p.muted === true }
  })
}

const stateView = (wrapper: Record<string, unknown>) => {
  const state = asRecord(wrapper.state ?? wrapper)
  const people = participantsOf(state)
  const hands = Array.isArray(state.raisedHands) ? state.raisedHands.map(String) : []
  const row = (term: string, value: string) => [h("dt", {}, term), h("dd", {}, value)]
  return h(
    "div",
    { class: "replay-state" },
    h(
      "dl",
      {},
      row("Status", String(state.status ?? "")),
      row("Title", String(state.title ?? "")),
      row("Host", String(state.host ?? "")),
      row("Speak policy", String(state.speakPolicy ?? "")),
      row("Recording", state.recording === true ? "on" : "off"),
      row("Captions", state.captions === true ? "on" : "off"),
      row("Raised hands", hands.length === 0 ? "none" : hands.join(", "))
    ),
    h("h3", {}, `Participants (${people.length})`),
    people.length === 0
      ? h("p", { class: "empty" }, "Nobody in the room at this point.")
      : h(
          "ul",
          { class: "replay-people" },
          ...people.map((p) =>
            h(
              "li",
              {},
              `${p.user} — ${p.role}${p.role === "listener" ? "" : p.muted ? ", muted" : ", mic on"}`
            )
          )
        )
  )
}

export const replayScreen = (spaceId: string, signal: AbortSignal): HTMLElement => {
  const logList = h("ol", { class: "event-log", "aria-label": "Event log" })
  const slider = h("input", { type: "range", min: 0, max: 0, value: 0, step: 1, name: "point" })
  const pointLabel = h("output", { for: "replay-point" }, "")
  slider.id = "replay-point"
  const stateBox = h("div", { class: "state-slot", "aria-live": "polite" })
  let log: ReadonlyArray<LoggedEvent> = []

  const showPoint = (index: number) => {
    const entry = log[index]
    if (entry === undefined) return
    pointLabel.textContent = `After event ${index + 1} of ${log.length}: ${describe(entry)}${entry.event.at === undefined ? "" : ` (${formatTime(entry.event.at)})`}`
    for (const [i, li] of [...logList.children].entries()) li.classList.toggle("current", i === index)
    for (const [i, li] of [...logList.children].entries()) li.toggleAttribute("aria-current", i === index)
    api.stateAt(spaceId, entry.position).then(
      (state) => !signal.aborted && replaceChildren(stateBox, stateView(state)),
      (e: unknown) => announce(e instanceof Error ? e.message : String(e), "error")
    )
  }

  slider.addEventListener("input", () => showPoint(Number(slider.value)))

  /** The last point of the log at or before a wall-clock time (where a recorded track starts). */
  const seekHistory = (at: number) => {
    let index = 0
    for (const [i, entry] of log.entries())
      if (entry.event.at !== undefined && entry.event.at <= at) index = i
    slider.value = String(index)
    showPoint(index)
    slider.focus()
  }
  const transcript = transcriptPanel(spaceId, signal)
  const recording = recordingPlayers(spaceId, seekHistory, signal, transcript.playing)

  api.events(spaceId).then(
    (entries) => {
      log = entries
      slider.max = String(Math.max(0, entries.length - 1))
      slider.value = slider.max
      replaceChildren(
        logList,
        ...entries.map((entry, index) =>
          h(
            "li",
            {},
            h(
              "button",
              {
                type: "button",
                class: "link",
                onclick: () => {
                  slider.value = String(index)
                  showPoint(index)
                }
              },
              `#${entry.position} ${describe(entry)}`
            ),
            entry.event.at === undefined
              ? null
              : h("span", { class: "meta" }, ` ${formatTime(entry.event.at)}`)
          )
        )
      )
      showPoint(entries.length - 1)
    },
    (e: unknown) => announce(e instanceof Error ? e.message : String(e), "error")
  )

  return h(
    "div",
    { class: "replay" },
    h("h1", {}, "Replay"),
    h("p", {}, "Pick a point of the Space's history: its state is rebuilt from the event log up to there."),
    h("div", { class: "card" }, h("label", { for: "replay-point" }, "Point in history"), slider, pointLabel),
    recording.element,
    transcript.element,
    h(
      "div",
      { class: "columns" },
      h(
        "section",
        { class: "card", "aria-labelledby": "state-title" },
        h("h2", { id: "state-title" }, "State at this point"),
        stateBox
      ),
      h(
        "section",
        { class: "card", "aria-labelledby": "log-title" },
        h("h2", { id: "log-title" }, "Event log"),
        logList
      )
    )
  )
}
