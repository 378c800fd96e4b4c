/** Development sign-in: pick a user id, the server issues a dev token for it. */
import * as api from "./api.js"
import { announce, field, h } from "./dom.js"
import { saveSession } from "./session.js"

export const signInScreen = (onSignedIn: () => void): HTMLElement => {
  const input = h("input", {
    name: "userId",
    autocomplete: "username",
    required: true,
    pattern: "[A-Za-z0-9_.:@\\-]{1,128}",
    placeholder: "e.g. hana"
  })
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Spaces"),
    h("p", {}, "Development sign-in: choose any user name. The server issues a token for it."),
    field("User name", input, "Letters, digits and _ . : @ -"),
    h("button", { type: "submit", class: "primary" }, "Sign in")
  )
  form.addEventListener("submit", (event) => {
    event.preventDefault()
    const userId = input.value.trim()
    api
      .devToken(userId)
      .then(({ token }) => {
        saveSession({ userId, token })
        announce(`Signed in as ${userId}`)
        onSignedIn()
      })
      .catch((error: unknown) => announce(error instanceof Error ? error.message : String(error), "error"))
  })
  queueMicrotask(() => input.focus())
  return form
}
