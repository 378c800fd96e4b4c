/** The signed-in home: live bar, hosting, following people, topics, and your own Spaces. */
import * as api from "./api.js"
import { announce, field, h, replaceChildren } from "./dom.js"
import { createForm } from "./createForm.js"
import { mountLiveBar } from "./liveBar.js"
import { endedCard, list, liveCard, roomLink, scheduledCard } from "./spaceCards.js"
import { topicsSection } from "./topics.js"

/** Used when the server has no topic catalogue route: the domain's default catalogue, in part. */
const fallbackTopics = [
  "art",
  "books",
  "business",
  "comedy",
  "crypto",
  "design",
  "education",
  "music",
  "sports",
  "technology"
]

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

const followForm = () => {
  const who = h("input", { name: "user", required: true, placeholder: "user name" })
  const form = h(
    "form",
    { class: "card inline-form", "aria-labelledby": "follow-title" },
    h("h2", { id: "follow-title" }, "Follow someone"),
    field("User to follow", who),
    h("button", { type: "submit" }, "Follow")
  )
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const user = who.value.trim()
    api
      .follow(user)
      .then(() => {
        announce(`You follow ${user}`)
        who.value = ""
      })
      .catch((e: unknown) => announce(errorText(e), "error"))
  })
  return form
}

const mySpaces = (me: string, go: (hash: string) => void) => {
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "mine-title" },
    h("h2", { id: "mine-title" }, "Your Spaces")
  )
  const body = h("div")
  section.append(body)
  const load = () =>
    api
      .creator(me)
      .then((view) =>
        replaceChildren(
          body,
          list(
            "Your live Spaces",
            view.live.map((s) => liveCard(s)),
            "Nothing live."
          ),
          list(
            "Your scheduled Spaces",
            view.scheduled.map((s) =>
              scheduledCard(s, [
                h(
                  "button",
                  {
                    type: "button",
                    class: "primary",
                    onclick: () =>
                      api
                        .startSpace(s.spaceId)
                        .then(() => go(roomLink(s.spaceId)))
                        .catch((e: unknown) => announce(errorText(e), "error"))
                  },
                  "Start now"
                ),
                h(
                  "button",
                  {
                    type: "button",
                    onclick: () =>
                      api
                        .cancelSpace(s.spaceId)
                        .then(load)
                        .catch((e: unknown) => announce(errorText(e), "error"))
                  },
                  "Cancel"
                )
              ])
            ),
            "Nothing scheduled."
          ),
          h("h3", {}, "Ended — replay"),
          list("Your ended Spaces", view.ended.map(endedCard), "No ended Spaces yet.")
        )
      )
      .catch(() => replaceChildren(body, h("p", { class: "empty" }, "Couldn't load your Spaces.")))
  void load()
  return section
}

export const homeScreen = (me: string, signal: AbortSignal, go: (hash: string) => void): HTMLElement => {
  const bar = h("div", { class: "live-bar-body" }, h("p", { class: "empty" }, "Loading…"))
  mountLiveBar(bar, signal)
  const screen = h(
    "div",
    { class: "home" },
    h(
      "section",
      { class: "live-bar", "aria-labelledby": "live-bar-title" },
      h("h2", { id: "live-bar-title" }, "Live now"),
      bar
    ),
    h(
      "div",
      { class: "columns" },
      h("div", { class: "create-slot" }),
      h("div", { class: "side" }, followForm(), h("div", { class: "topics-slot" }))
    ),
    mySpaces(me, go)
  )
  const fill = (catalogue: ReadonlyArray<string>) => {
    screen
      .querySelector(".create-slot")
      ?.replaceChildren(createForm(catalogue, (spaceId, live) => (live ? go(roomLink(spaceId)) : go("#/"))))
    screen.querySelector(".topics-slot")?.replaceChildren(topicsSection(catalogue))
  }
  api.topics().then(fill, () => fill(fallbackTopics))
  return screen
}
