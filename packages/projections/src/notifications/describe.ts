/**
 * The words of a notification, shared by the server's push messages and the web client's list.
 * Imports types only, so the web client bundles it without the rest of the package.
 */
import type { Notification } from "./Notification.js"

/** One line saying what happened, for a push message or a list. */
export const describeNotification = (n: {
  readonly kind: Notification["kind"]
  readonly actor: string | null
  readonly title: string
  readonly text?: string | undefined
  readonly recorded?: boolean | undefined
}): string => {
  const who = n.actor ?? "Someone"
  const title = n.title === "" ? "a Space" : `“${n.title}”`
  switch (n.kind) {
    case "space-started":
      return `${who} started a Space: ${title}`
    case "space-scheduled":
      return `${who} scheduled a Space: ${title}`
    case "on-stage":
      return `${who} is speaking in ${title}`
    case "reminder-started":
      return `${title} has started`
    case "speaker-invited":
      return `${who} invited you to speak in ${title}`
    case "cohost-invited":
      return `${who} invited you to co-host ${title}`
    case "request-approved":
      return `You can speak now in ${title}`
    case "request-declined":
      return `Your request to speak in ${title} was declined`
    case "removed":
      return `You were removed from ${title}`
    case "space-ended":
      return `${title} has ended${n.recorded === true ? " — the recording is ready" : ""}`
    case "space-shared":
      return `${who} shared a Space: ${title}${n.text === undefined ? "" : ` — ${n.text}`}`
  }
}
