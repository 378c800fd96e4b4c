/**
 * The notifications bell in the top bar: the unread count, kept current by the notifications'
 * event stream, and a panel with the list (newest first, links into the Spaces, older pages on
 * demand, "mark all read").
 */
import { describeNotification } from "@spaces/projections/notification-text"
import * as api from "./api.js"
import { announce, h } from "./dom.js"
import type { Notification } from "./types.js"

/** base64url → bytes, for `applicationServerKey`. */
const keyBytes = (base64url: string) => {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/")
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(raw, (c) => c.charCodeAt(0))
}

/**
 * Web Push on this device: registers the service worker, subscribes with the server's key and
 * hands the subscription to the server. Answers what to tell the user.
 */
const enablePush = async (): Promise<string> => {
  const { publicKey } = await api.pushKey()
  if ((await Notification.requestPermission()) !== "granted")
    return "Notifications are blocked for this site."
  const registration = await navigator.serviceWorker.register("/sw.js")
  await navigator.serviceWorker.ready
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(publicKey)
    }))
  await api.subscribePush(subscription.toJSON())
  return "Push notifications are on for this device."
}

const item = (n: Notification) =>
  h(
    "li",
    { class: n.read ? "notification" : "notification unread", "data-id": n.id },
    h("a", { href: n.link }, describeNotification(n)),
    h("time", { datetime: new Date(n.at).toISOString() }, new Date(n.at).toLocaleString())
  )

/** The bell, live until `signal` aborts. */
export const notificationsBell = (signal: AbortSignal): HTMLElement => {
  const count = h("span", { class: "bell-count", hidden: true })
  const button = h(
    "button",
    { type: "button", class: "small bell", "aria-expanded": false, "aria-controls": "notifications-panel" },
    "🔔",
    count
  )
  const list = h("ul", { class: "notifications-list", "aria-label": "Notifications" })
  const more = h("button", { type: "button", class: "small", hidden: true }, "Older")
  const markAll = h("button", { type: "button", class: "small" }, "Mark all read")
  const pushSupported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window
  const push = h("button", { type: "button", class: "small", hidden: !pushSupported }, "Push on this device")
  push.addEventListener("click", () => {
    push.disabled = true
    void enablePush()
      .then((message) => announce(message))
      .catch((error: unknown) => {
        push.disabled = false
        announce(
          error instanceof api.ApiError && error.status === 503
            ? "Push notifications are not set up on this server."
            : `Could not turn on push notifications: ${error instanceof Error ? error.message : String(error)}`,
          "error"
        )
      })
  })
  const panel = h(
    "section",
    { id: "notifications-panel", class: "notifications-panel", hidden: true, "aria-label": "Notifications" },
    h("div", { class: "notifications-head" }, h("strong", {}, "Notifications"), push, markAll),
    list,
    more
  )
  let newest = 0
  let cursor: number | null = null

  const showCount = (n: number) => {
    count.textContent = String(n)
    count.hidden = n === 0
    button.setAttribute("aria-label", `Notifications, ${n} unread`)
  }
  const load = async (before?: number) => {
    const page = await api.notifications(before)
    if (signal.aborted) return
    if (before === undefined) {
      list.replaceChildren(...page.notifications.map(item))
      newest = page.notifications[0]?.id ?? 0
      if (page.notifications.length === 0) list.append(h("li", { class: "empty" }, "Nothing yet."))
    } else list.append(...page.notifications.map(item))
    cursor = page.nextCursor
    more.hidden = cursor === null
    showCount(page.unread)
  }

  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden
    button.setAttribute("aria-expanded", String(!panel.hidden))
    if (!panel.hidden) void load()
  })
  more.addEventListener("click", () => {
    if (cursor !== null) void load(cursor)
  })
  markAll.addEventListener("click", () => {
    if (newest === 0) return
    void api.markNotificationsRead(newest).then((state) => {
      showCount(state.unread)
      for (const li of list.querySelectorAll(".unread")) li.classList.remove("unread")
    })
  })
  panel.addEventListener("click", (event) => {
    // Following a link closes the panel.
    if (event.target instanceof HTMLAnchorElement) {
      panel.hidden = true
      button.setAttribute("aria-expanded", "false")
    }
  })

  showCount(0)
  void api.liveNotifications({
    signal,
    onEvent: ({ event, data }) => {
      const parsed: unknown = JSON.parse(data)
      if (event === "unread" && typeof parsed === "object" && parsed !== null && "unread" in parsed)
        showCount(Number(parsed.unread))
      else if (event === "notification") {
        const n = parsed as Notification
        newest = Math.max(newest, n.id)
        if (!panel.hidden) {
          list.querySelector(".empty")?.remove()
          list.prepend(item(n))
        }
      }
    }
  })
  return h("div", { class: "bell-wrap" }, button, panel)
}
