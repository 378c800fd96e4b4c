/**
 * The sign-in screen: the OpenID provider's sign-in when the server names one, and development
 * sign-in (pick a user id, the server issues a dev token for it) when the server serves it.
 */
import * as api from "./api.js"
import { announce, field, h } from "./dom.js"
import { type OidcClient, type SignInConfig, signInConfig, startSignIn } from "./oidc.js"
import { saveSession } from "./session.js"

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

const providerSignIn = (oidc: OidcClient): HTMLElement => {
  const button = h(
    "button",
    {
      type: "button",
      class: "primary",
      onclick: () => {
        button.disabled = true
        startSignIn(oidc).catch((error: unknown) => {
          button.disabled = false
          announce(`Could not reach the sign-in provider: ${message(error)}`, "error")
        })
      }
    },
    `Continue with ${new URL(oidc.issuer).host}`
  )
  return h("div", { class: "provider-sign-in" }, button)
}

const devSignIn = (onSignedIn: () => void): HTMLElement => {
  const input = h("input", {
    name: "userId",
    autocomplete: "username",
    required: true,
    pattern: "[A-Za-z0-9_.:@\\-]{1,128}",
    placeholder: "e.g. hana"
  })
  const form = h(
    "form",
    {},
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
        saveSession({ kind: "dev", userId, token })
        announce(`Signed in as ${userId}`)
        onSignedIn()
      })
      .catch((error: unknown) => announce(message(error), "error"))
  })
  queueMicrotask(() => input.focus())
  return form
}

const methods = (config: SignInConfig, onSignedIn: () => void): ReadonlyArray<HTMLElement> => {
  const shown: Array<HTMLElement> = []
  if (config.oidc !== null) shown.push(providerSignIn(config.oidc))
  if (config.devSignIn) shown.push(devSignIn(onSignedIn))
  if (shown.length === 0)
    shown.push(h("p", {}, "This server has no sign-in configured: ask its operator (see README, Sign-in)."))
  return shown
}

export const signInScreen = (onSignedIn: () => void): HTMLElement => {
  const card = h(
    "section",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Spaces")
  )
  signInConfig().then(
    (config) => card.append(...methods(config, onSignedIn)),
    (error: unknown) => announce(message(error), "error")
  )
  return card
}
