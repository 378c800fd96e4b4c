/**
 * The live bar: live Spaces with people the signed-in user follows, kept current by the feed's
 * event stream, with polling as the fallback while the stream is down.
 */
import * as api from "./api.js"
import { h, replaceChildren } from "./dom.js"
import { liveCard } from "./spaceCards.js"
import type { FeedEntry } from "./types.js"

const render = (bar: HTMLElement, entries: ReadonlyArray<FeedEntry>) => {
  const items = entries.map((entry) =>
    liveCard(
      entry.space,
      entry.followedParticipants.length === 0 ? undefined : `With ${entry.followedParticipants.join(", ")}`
    )
  )
  replaceChildren(
    bar,
    items.length === 0
      ? h("p", { class: "empty" }, "No one you follow is live right now.")
      : h("ul", { class: "live-bar-list", "aria-label": "Live Spaces" }, ...items)
  )
}

const isFeed = (value: unknown): value is ReadonlyArray<FeedEntry> => Array.isArray(value)

/** Mounts the live bar into `bar` until `signal` aborts. */
export const mountLiveBar = (bar: HTMLElement, signal: AbortSignal): void => {
  const refresh = () =>
    api
      .feed()
      .then((entries) => !signal.aborted && render(bar, entries))
      .catch(() => undefined)
  let streaming = false
  void refresh()
  const poll = setInterval(() => {
    if (!streaming) void refresh()
  }, 3000)
  signal.addEventListener("abort", () => clearInterval(poll))
  void api.liveFeed({
    signal,
    onState: (state) => {
      streaming = state === "open"
      if (streaming) void refresh()
    },
    onEvent: ({ data }) => {
      // The stream sends the whole ranked feed, or only a nudge to fetch it.
      const parsed: unknown = data === "" ? null : JSON.parse(data)
      if (isFeed(parsed)) render(bar, parsed)
      else if (parsed !== null && typeof parsed === "object" && "entries" in parsed && isFeed(parsed.entries))
        render(bar, parsed.entries)
      else void refresh()
    }
  })
}
