/** The room's people by role, with mute state, speaking indicators and the moderators' actions. */
import { h } from "./dom.js"
import type { Role, RoomParticipant, RoomView } from "./types.js"

export interface ParticipantActions {
  readonly mute: (user: string) => void
  readonly remove: (user: string) => void
  readonly inviteSpeaker: (user: string) => void
  readonly inviteCoHost: (user: string) => void
  readonly removeCoHost: (user: string) => void
  readonly approve: (user: string) => void
  readonly decline: (user: string) => void
}

export const roleLabel: Record<Role, string> = {
  host: "Host",
  cohost: "Co-host",
  speaker: "Speaker",
  listener: "Listener"
}

const groups: ReadonlyArray<{ role: Role; title: string }> = [
  { role: "host", title: "Host" },
  { role: "cohost", title: "Co-hosts" },
  { role: "speaker", title: "Speakers" },
  { role: "listener", title: "Listeners" }
]

const actionButton = (label: string, user: string, run: (user: string) => void, danger = false) =>
  h(
    "button",
    {
      type: "button",
      class: danger ? "danger small" : "small",
      "data-key": `${label}:${user}`,
      onclick: () => run(user)
    },
    label
  )

/** What `me` (with `myRole`) may do to `p`, as the SPEC's rules say; the server checks again. */
const actionsFor = (
  p: RoomParticipant,
  me: string,
  myRole: Role | null,
  room: RoomView,
  act: ParticipantActions
) => {
  if (p.user === me || p.role === "host" || (myRole !== "host" && myRole !== "cohost")) return []
  const name = p.user
  const buttons: Array<HTMLElement> = []
  const onStage = p.role === "speaker" || p.role === "cohost"
  if (onStage && !p.muted) buttons.push(actionButton(`Mute ${name}`, name, act.mute))
  if (p.role === "listener" && !room.invitations.speakers.includes(name))
    buttons.push(actionButton(`Invite ${name} to speak`, name, act.inviteSpeaker))
  if (myRole === "host" && p.role !== "cohost" && !room.invitations.cohosts.includes(name))
    buttons.push(actionButton(`Make ${name} co-host`, name, act.inviteCoHost))
  if (myRole === "host" && p.role === "cohost")
    buttons.push(actionButton(`Remove ${name} as co-host`, name, act.removeCoHost))
  if (myRole === "host" || p.role !== "cohost")
    buttons.push(actionButton(`Remove ${name}`, name, act.remove, true))
  return buttons
}

const person = (
  p: RoomParticipant,
  me: string,
  myRole: Role | null,
  room: RoomView,
  act: ParticipantActions,
  speaking: ReadonlySet<string>
) => {
  const onStage = p.role !== "listener"
  const actions = actionsFor(p, me, myRole, room, act)
  return h(
    "li",
    { class: `person${speaking.has(p.user) ? " speaking" : ""}`, "data-user": p.user, "data-role": p.role },
    h("span", { class: "avatar", "aria-hidden": "true" }, p.user.slice(0, 1).toUpperCase()),
    h(
      "span",
      { class: "who" },
      h("span", { class: "name" }, p.user === me ? `${p.user} (you)` : p.user),
      h("span", { class: "role" }, roleLabel[p.role]),
      onStage ? h("span", { class: p.muted ? "mic muted" : "mic live" }, p.muted ? "Muted" : "Mic on") : null,
      h("span", { class: "speaking-label" }, "Speaking")
    ),
    actions.length === 0 ? null : h("span", { class: "person-actions" }, ...actions)
  )
}

export const participantsSection = (
  room: RoomView,
  me: string,
  speaking: ReadonlySet<string>,
  act: ParticipantActions
): HTMLElement => {
  const myRole = room.participants.find((p) => p.user === me)?.role ?? null
  const moderator = myRole === "host" || myRole === "cohost"
  const hands = room.raisedHands.map((user) =>
    h(
      "li",
      { class: "person hand", "data-user": user },
      h("span", { class: "avatar", "aria-hidden": "true" }, "✋"),
      h(
        "span",
        { class: "who" },
        h("span", { class: "name" }, user),
        h("span", { class: "role" }, "Requested to speak")
      ),
      moderator
        ? h(
            "span",
            { class: "person-actions" },
            actionButton(`Approve ${user}`, user, act.approve),
            actionButton(`Decline ${user}`, user, act.decline)
          )
        : null
    )
  )
  return h(
    "section",
    { class: "card participants", "aria-labelledby": "people-title" },
    h("h2", { id: "people-title" }, "People"),
    hands.length === 0
      ? null
      : h(
          "div",
          { class: "group" },
          h("h3", {}, `Requests to speak (${hands.length})`),
          h("ul", { "aria-label": "Requests to speak" }, ...hands)
        ),
    ...groups.map(({ role, title }) => {
      const people = room.participants.filter((p) => p.role === role)
      return people.length === 0
        ? null
        : h(
            "div",
            { class: "group" },
            h("h3", {}, `${title} (${people.length})`),
            h("ul", { "aria-label": title }, ...people.map((p) => person(p, me, myRole, room, act, speaking)))
          )
    })
  )
}
