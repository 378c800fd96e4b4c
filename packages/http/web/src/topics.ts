/** Topic browsing and search over live and upcoming Spaces. */
import * as api from "./api.js"
import { announce, field, h, replaceChildren } from "./dom.js"
import { list, liveCard, scheduledCard } from "./spaceCards.js"
import type { SearchResults } from "./types.js"

const remindButton = (spaceId: string) =>
  h(
    "button",
    {
      type: "button",
      onclick: () =>
        api
          .setReminder(spaceId)
          .then(() => announce("Reminder set"))
          .catch((e: unknown) => announce(String(e instanceof Error ? e.message : e), "error"))
    },
    "Remind me"
  )

const renderResults = (target: HTMLElement, heading: string, results: SearchResults) =>
  replaceChildren(
    target,
    h("h3", {}, heading),
    h("h4", {}, "Live"),
    list(
      "Live Spaces",
      results.live.map((s) => liveCard(s)),
      "Nothing live."
    ),
    h("h4", {}, "Upcoming"),
    list(
      "Upcoming Spaces",
      results.upcoming.map((s) => scheduledCard(s, [remindButton(s.spaceId)])),
      "Nothing scheduled."
    )
  )

export const topicsSection = (catalogue: ReadonlyArray<string>): HTMLElement => {
  const results = h("div", { class: "results", "aria-live": "polite" })
  const show = (slug: string) =>
    api
      .topic(slug)
      .then((view) => renderResults(results, `Topic: ${slug}`, view))
      .catch((e: unknown) => announce(String(e instanceof Error ? e.message : e), "error"))
  const query = h("input", { type: "search", name: "q", placeholder: "Words of a title" })
  const searchForm = h(
    "form",
    { role: "search", class: "inline-form" },
    field("Search Spaces", query),
    h("button", { type: "submit" }, "Search")
  )
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault()
    api
      .search({ text: query.value.trim() })
      .then((found) => renderResults(results, `Results for “${query.value.trim()}”`, found))
      .catch((e: unknown) => announce(String(e instanceof Error ? e.message : e), "error"))
  })
  return h(
    "section",
    { class: "card", "aria-labelledby": "topics-title" },
    h("h2", { id: "topics-title" }, "Topics"),
    searchForm,
    h(
      "ul",
      { class: "chips topic-buttons", "aria-label": "Browse a topic" },
      ...catalogue.map((slug) =>
        h("li", {}, h("button", { type: "button", class: "small", onclick: () => show(slug) }, slug))
      )
    ),
    results
  )
}
