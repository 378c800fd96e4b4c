/** Boot and routing: the hash says which screen; each screen lives until the next navigation. */
import { announce, clearError, h } from "./dom.js"
import { homeScreen } from "./home.js"
import { notificationsBell } from "./notificationsBell.js"
import { replayScreen } from "./replay.js"
import { roomScreen } from "./room.js"
import { clearSession, currentSession } from "./session.js"
import { signInScreen } from "./signIn.js"

const main = document.getElementById("main")
const account = document.getElementById("account")
let current: AbortController | null = null

const go = (hash: string) => {
  if (location.hash === hash) route()
  else location.hash = hash
}

const route = () => {
  if (main === null || account === null) return
  current?.abort()
  current = new AbortController()
  clearError()
  const session = currentSession()
  account.replaceChildren(
    ...(session === null
      ? []
      : [
          notificationsBell(current.signal),
          h("span", { class: "me" }, `Signed in as ${session.userId}`),
          h(
            "button",
            {
              type: "button",
              class: "small",
              onclick: () => {
                clearSession()
                go("#/")
              }
            },
            "Sign out"
          )
        ])
  )
  const [, screen, id] = location.hash.match(/^#\/(space|replay)\/([^/]+)$/) ?? []
  let view: HTMLElement
  if (session === null) view = signInScreen(() => route())
  else if (screen === "space" && id !== undefined)
    view = roomScreen(decodeURIComponent(id), session.userId, current.signal)
  else if (screen === "replay" && id !== undefined)
    view = replayScreen(decodeURIComponent(id), current.signal)
  else view = homeScreen(session.userId, current.signal, go)
  main.replaceChildren(view)
  // Move focus to the new screen's heading so keyboard and screen-reader users land on it.
  const heading = main.querySelector<HTMLElement>("h1, h2")
  if (heading !== null && session !== null) {
    heading.tabIndex = -1
    heading.focus({ preventScroll: true })
  }
}

window.addEventListener("hashchange", route)
window.addEventListener("unhandledrejection", (event) => announce(String(event.reason), "error"))
route()
