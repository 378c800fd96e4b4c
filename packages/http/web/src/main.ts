/** Boot and routing: the hash says which screen; each screen lives until the next navigation. */
import { announce, clearError, h } from "./dom.js"
import { homeScreen } from "./home.js"
import { notificationsBell } from "./notificationsBell.js"
import { replayScreen } from "./replay.js"
import { roomScreen } from "./room.js"
import { completeSignIn, refreshDueAt, refreshSession, signInConfig, signOut } from "./oidc.js"
import { currentSession } from "./session.js"
import { signInScreen } from "./signIn.js"

const main = document.getElementById("main")
const account = document.getElementById("account")
let current: AbortController | null = null
let refreshTimer: ReturnType<typeof setTimeout> | undefined

/** Refreshes the provider's access token three quarters into its lifetime, again and again. */
const scheduleRefresh = () => {
  clearTimeout(refreshTimer)
  const session = currentSession()
  const due = session === null ? undefined : refreshDueAt(session)
  if (due === undefined) return
  refreshTimer = setTimeout(
    () => {
      refreshSession().then(
        (ok) => (ok ? scheduleRefresh() : route()),
        (error: unknown) => {
          announce(`Could not refresh the sign-in: ${String(error)}`, "error")
          // Try again shortly: the provider may be back before the token runs out.
          refreshTimer = setTimeout(scheduleRefresh, 10_000)
        }
      )
    },
    Math.max(0, due - Date.now())
  )
}

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
  scheduleRefresh()
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
                clearTimeout(refreshTimer)
                signOut().then(
                  (leaving) => {
                    if (!leaving) go("#/")
                  },
                  (error: unknown) => {
                    announce(`Signed out here; the provider did not answer: ${String(error)}`, "error")
                    go("#/")
                  }
                )
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

/** A return from the OpenID provider (`?code=…&state=…`) is finished before the first screen. */
const boot = async () => {
  if (new URLSearchParams(location.search).has("state")) {
    const { oidc } = await signInConfig()
    if (oidc !== null && (await completeSignIn(oidc))) announce(`Signed in as ${currentSession()?.userId}`)
  }
}
boot().then(route, (error: unknown) => {
  announce(`Sign-in failed: ${error instanceof Error ? error.message : String(error)}`, "error")
  route()
})
