/** Host a Space: now or scheduled, with a title, up to three topics, a speak policy, recording and captions. */
import * as api from "./api.js"
import { announce, field, h } from "./dom.js"
import type { SpeakPolicy } from "./types.js"

const maxTopics = 3

const policyChoice = (value: SpeakPolicy, label: string, checked: boolean) =>
  h("label", { class: "choice" }, h("input", { type: "radio", name: "speakPolicy", value, checked }), label)

export const createForm = (
  catalogue: ReadonlyArray<string>,
  onCreated: (spaceId: string, live: boolean) => void
) => {
  const title = h("input", { name: "title", required: true, maxlength: 70 })
  const when = h("input", { name: "scheduledFor", type: "datetime-local" })
  const topicBoxes = catalogue.map((topic) =>
    h("label", { class: "choice" }, h("input", { type: "checkbox", name: "topics", value: topic }), topic)
  )
  const topicsGroup = h(
    "fieldset",
    { class: "topics-picker" },
    h("legend", {}, `Topics (up to ${maxTopics})`),
    ...topicBoxes
  )
  // The fourth box can't be ticked: the limit is a rule, the form just says it early.
  topicsGroup.addEventListener("change", () => {
    const boxes = [...topicsGroup.querySelectorAll<HTMLInputElement>("input[type=checkbox]")]
    const chosen = boxes.filter((b) => b.checked).length
    for (const box of boxes) box.disabled = !box.checked && chosen >= maxTopics
  })
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, "Host a Space"),
    field("Title", title, "1 to 70 characters"),
    topicsGroup,
    h(
      "fieldset",
      {},
      h("legend", {}, "Who can request to speak"),
      policyChoice("everyone", "Everyone", true),
      policyChoice("followed", "People you follow", false),
      policyChoice("invited", "Only people you invite", false)
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Options"),
      h(
        "label",
        { class: "choice" },
        h("input", { type: "checkbox", name: "recording" }),
        "Record this Space"
      ),
      h(
        "label",
        { class: "choice" },
        h("input", { type: "checkbox", name: "captions", checked: true }),
        "Show captions"
      )
    ),
    field("Schedule for (leave empty to start now)", when),
    h("button", { type: "submit", class: "primary" }, "Create Space")
  )
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const data = new FormData(form)
    const scheduled = when.value === "" ? undefined : new Date(when.value).getTime()
    api
      .createSpace({
        title: title.value.trim(),
        topics: data.getAll("topics").map(String),
        speakPolicy: String(data.get("speakPolicy")) as SpeakPolicy,
        recording: data.get("recording") !== null,
        captions: data.get("captions") !== null,
        ...(scheduled === undefined ? {} : { scheduledFor: scheduled })
      })
      .then(({ spaceId }) => {
        announce(scheduled === undefined ? "Your Space is live" : "Your Space is scheduled")
        onCreated(spaceId, scheduled === undefined)
      })
      .catch((error: unknown) => announce(error instanceof Error ? error.message : String(error), "error"))
  })
  return form
}
