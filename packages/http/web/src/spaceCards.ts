/** How a Space is shown in lists: the live bar, a topic, search results, a creator's page. */
import { formatTime, h } from "./dom.js"
import type { EndedSpaceSummary, LiveSpaceSummary, ScheduledSpaceSummary } from "./types.js"

export const roomLink = (spaceId: string) => `#/space/${encodeURIComponent(spaceId)}`
export const replayLink = (spaceId: string) => `#/replay/${encodeURIComponent(spaceId)}`

const topicChips = (topics: ReadonlyArray<string>) =>
  topics.length === 0
    ? null
    : h("ul", { class: "chips", "aria-label": "Topics" }, ...topics.map((t) => h("li", {}, t)))

export const liveCard = (space: LiveSpaceSummary, note?: string): HTMLElement =>
  h(
    "li",
    { class: "space-card live", "data-space": space.spaceId },
    h("span", { class: "badge live-badge" }, "Live"),
    h("a", { href: roomLink(space.spaceId), class: "space-title" }, space.title),
    h(
      "p",
      { class: "meta" },
      `Host ${space.host} · ${space.speakers.length} on stage · ${space.listenerCount} listening`
    ),
    note === undefined ? null : h("p", { class: "meta" }, note),
    topicChips(space.topics)
  )

export const scheduledCard = (space: ScheduledSpaceSummary, actions: ReadonlyArray<HTMLElement> = []) =>
  h(
    "li",
    { class: "space-card scheduled", "data-space": space.spaceId },
    h("span", { class: "badge" }, "Scheduled"),
    h("span", { class: "space-title" }, space.title),
    h(
      "p",
      { class: "meta" },
      `Host ${space.host} · ${formatTime(space.scheduledFor)} · ${space.reminders} reminders`
    ),
    topicChips(space.topics),
    actions.length === 0 ? null : h("div", { class: "actions" }, ...actions)
  )

export const endedCard = (space: EndedSpaceSummary) =>
  h(
    "li",
    { class: "space-card ended", "data-space": space.spaceId },
    h("span", { class: "badge" }, "Ended"),
    h("a", { href: replayLink(space.spaceId), class: "space-title" }, space.title),
    h("p", { class: "meta" }, `Ended ${formatTime(space.endedAt)}${space.recorded ? " · recorded" : ""}`),
    topicChips(space.topics)
  )

export const list = (label: string, items: ReadonlyArray<HTMLElement>, empty: string) =>
  items.length === 0
    ? h("p", { class: "empty" }, empty)
    : h("ul", { class: "space-list", "aria-label": label }, ...items)
