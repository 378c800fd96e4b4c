/**
 * The moderators' panel: who may request to speak, recording, captions, the title, and inviting
 * someone to speak. Built once and updated in place, so text being typed survives room updates.
 */
import * as api from "./api.js"
import { field, h } from "./dom.js"
import type { Role, RoomView, SpeakPolicy } from "./types.js"

const policies: ReadonlyArray<readonly [SpeakPolicy, string]> = [
  ["everyone", "Everyone"],
  ["followed", "People the host follows"],
  ["invited", "Invited only"]
]

export interface SettingsPanel {
  readonly element: HTMLElement
  readonly update: (room: RoomView, role: Role | null) => void
}

export const settingsPanel = (
  spaceId: string,
  act: (task: Promise<unknown>, done?: string) => Promise<void>
): SettingsPanel => {
  const policy = h(
    "select",
    {
      onchange: () =>
        void act(api.setSpeakPolicy(spaceId, policy.value as SpeakPolicy), "Speak policy changed")
    },
    ...policies.map(([value, label]) => h("option", { value }, label))
  )
  const checkbox = (run: (on: boolean) => Promise<unknown>) => {
    const box = h("input", { type: "checkbox" })
    box.addEventListener("change", () => void act(run(box.checked)))
    return box
  }
  const recording = checkbox((on) => api.setRecording(spaceId, on))
  const captions = checkbox((on) => api.setCaptions(spaceId, on))

  const titleInput = h("input", { name: "title", maxlength: 70, required: true })
  const titleForm = h(
    "form",
    { class: "inline-form" },
    field("Title", titleInput),
    h("button", { type: "submit" }, "Rename")
  )
  titleForm.addEventListener("submit", (event) => {
    event.preventDefault()
    void act(api.editSpace(spaceId, { title: titleInput.value.trim() }), "Title changed")
  })

  const invitee = h("input", { name: "invitee", placeholder: "user name", required: true })
  const inviteForm = h(
    "form",
    { class: "inline-form" },
    field("Invite to speak", invitee),
    h("button", { type: "submit" }, "Invite")
  )
  inviteForm.addEventListener("submit", (event) => {
    event.preventDefault()
    const user = invitee.value.trim()
    void act(api.inviteSpeaker(spaceId, user), `Invited ${user}`).then(() => {
      invitee.value = ""
    })
  })

  const element = h(
    "section",
    { class: "card", "aria-labelledby": "settings-title", hidden: true },
    h("h2", { id: "settings-title" }, "Room settings"),
    field("Who can request to speak", policy),
    h("label", { class: "choice" }, recording, "Recording"),
    h("label", { class: "choice" }, captions, "Captions"),
    titleForm,
    inviteForm
  )

  let shownTitle = ""
  return {
    element,
    update: (room, role) => {
      element.hidden = role !== "host" && role !== "cohost"
      policy.value = room.speakPolicy
      recording.checked = room.recording
      // Only the host changes recording (SPEC §1).
      recording.disabled = role !== "host"
      captions.checked = room.captions
      // The field follows the title unless someone is editing it.
      if (document.activeElement !== titleInput && titleInput.value === shownTitle)
        titleInput.value = room.title
      shownTitle = room.title
    }
  }
}
