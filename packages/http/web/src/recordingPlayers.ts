/**
 * The replay's audio: one player per recorded speaker track, each placed on the Space's timeline
 * (when it starts after the recording began). The players stream the tracks by their signed URLs,
 * so seeking asks the server for byte ranges instead of downloading the whole file.
 */
import * as api from "./api.js"
import { announce, formatTime, h, replaceChildren } from "./dom.js"
import type { Recording, RecordingTrack } from "./types.js"

/** 83_000 → "1:23", 3_723_000 → "1:02:03"; whole seconds down, as the players count them. */
const clock = (ms: number): string => {
  const total = Math.max(0, Math.floor(ms / 1000))
  const hours = Math.floor(total / 3600)
  const minutes = Math.floor((total % 3600) / 60)
  const seconds = String(total % 60).padStart(2, "0")
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`
}

/** Plain-language place of a track: who, from when, for how long. */
const describeTrack = (track: RecordingTrack): string =>
  track.startOffsetMs === null
    ? `${track.userId}: no audio yet`
    : `${track.userId}, from ${clock(track.startOffsetMs)} into the recording, ${clock(track.durationMs)} long`

/** A track that fails again this soon after its URL was renewed stays failed (no retry loop). */
const RETRY_AFTER_MS = 60_000

export interface RecordingPlayers {
  readonly element: HTMLElement
}

/**
 * The recording section of the replay, hidden when the Space was not recorded. `seekHistory`
 * moves the replay's point in history to a wall-clock time (the moment a track starts).
 */
export const recordingPlayers = (
  spaceId: string,
  seekHistory: (at: number) => void,
  signal: AbortSignal,
  /** A player is at this moment of the Space (epoch ms): the transcript follows it. */
  onPlayback: (at: number) => void = () => undefined
): RecordingPlayers => {
  const list = h("ol", { class: "recording-tracks" })
  const intro = h("p", {})
  const element = h(
    "section",
    { class: "card recording", "aria-labelledby": "recording-title", hidden: true },
    h("h2", { id: "recording-title" }, "Recording"),
    intro,
    list
  )

  /**
   * A player that fails (its signed URL expired, or a server that can't verify it answered 403)
   * gets a fresh URL from a new manifest, at the same position, whatever the expiry says.
   */
  const renew = async (audio: HTMLAudioElement, file: string) => {
    const fresh = await api.recording(spaceId)
    const track = fresh?.tracks.find((t) => t.file === file)
    if (fresh === null || track === undefined || signal.aborted) return
    const at = audio.currentTime
    audio.src = track.url
    audio.currentTime = at
  }

  const player = (recording: Recording, track: RecordingTrack) => {
    const label = `Recording of ${describeTrack(track)}`
    const audio = h("audio", { controls: true, preload: "metadata", src: track.url, "aria-label": label })
    // One retry per failure: a renewed URL that fails again within the minute is left alone.
    let renewedAt = Number.NEGATIVE_INFINITY
    audio.addEventListener("error", () => {
      if (Date.now() - renewedAt < RETRY_AFTER_MS) return
      renewedAt = Date.now()
      void renew(audio, track.file).catch(() => undefined)
    })
    const startsAt = track.startOffsetMs === null ? null : recording.startedAt + track.startOffsetMs
    audio.addEventListener("timeupdate", () => {
      if (startsAt !== null && !audio.paused) onPlayback(startsAt + audio.currentTime * 1000)
    })
    return h(
      "li",
      { class: "recording-track", "data-user": track.userId },
      h(
        "p",
        {},
        h("strong", {}, track.userId),
        h(
          "span",
          { class: "meta" },
          track.startOffsetMs === null
            ? " — no audio yet"
            : ` — starts ${clock(track.startOffsetMs)} into the recording (${formatTime(startsAt ?? 0)}), ${clock(track.durationMs)} long`
        )
      ),
      audio,
      startsAt === null
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "link",
              "aria-label": `Show the Space as it was when ${track.userId}'s track starts`,
              onclick: () => seekHistory(startsAt)
            },
            "Show the Space at this moment"
          )
    )
  }

  api.recording(spaceId).then(
    (recording) => {
      if (signal.aborted || recording === null) return
      element.hidden = false
      intro.textContent =
        recording.tracks.length === 0
          ? `Recording since ${formatTime(recording.startedAt)}, but nobody has spoken yet.`
          : `Recorded from ${formatTime(recording.startedAt)}: one track per speaker, placed on the Space's timeline.`
      replaceChildren(list, ...recording.tracks.map((track) => player(recording, track)))
    },
    (e: unknown) => announce(`Recording: ${e instanceof Error ? e.message : String(e)}`, "error")
  )

  return { element }
}
