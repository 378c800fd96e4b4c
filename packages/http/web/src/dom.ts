/** A tiny DOM builder: enough for a few screens without a framework. */

type Handler = (event: Event) => void
type PropValue = string | number | boolean | Handler | undefined | null
export type Props = Readonly<Record<string, PropValue>>
export type Child = Node | string | number | null | undefined | false

/**
 * `h("button", { class: "x", onclick: fn, "aria-pressed": true }, "Label")`. Keys starting with
 * "on" are listeners; `false`, `null` and `undefined` leave an attribute out; `true` sets it empty
 * (boolean attributes) except for aria-* where it is the string "true".
 */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: ReadonlyArray<Child | ReadonlyArray<Child>>
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") element.addEventListener(key.slice(2), value)
    else if (value === true) element.setAttribute(key, key.startsWith("aria-") ? "true" : "")
    else if (value !== false && value !== undefined && value !== null)
      element.setAttribute(key, String(value))
    else if (value === false && key.startsWith("aria-")) element.setAttribute(key, "false")
  }
  append(element, children)
  return element
}

const append = (parent: Node, children: ReadonlyArray<Child | ReadonlyArray<Child>>): void => {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child)
    else if (child instanceof Node) parent.appendChild(child)
    else if (child !== null && child !== undefined && child !== false)
      parent.appendChild(document.createTextNode(String(child)))
  }
}

/** Replaces an element's content, keeping focus on an equivalent control when it can. */
export const replaceChildren = (
  parent: Element,
  ...children: ReadonlyArray<Child | ReadonlyArray<Child>>
) => {
  const focused = document.activeElement
  const focusKey =
    focused instanceof HTMLElement && parent.contains(focused) ? focused.dataset.key : undefined
  parent.replaceChildren()
  append(parent, children)
  if (focusKey !== undefined) {
    const again = parent.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)
    again?.focus()
  }
}

let announcer: HTMLElement | null = null

/** Says something to screen readers (and shows it): the page's one polite live region. */
export const announce = (message: string, kind: "info" | "error" = "info"): void => {
  announcer ??= document.getElementById("status")
  if (announcer === null) return
  announcer.textContent = message
  announcer.dataset.kind = kind
}

/** An error belongs to the screen it happened on: the next screen starts without it. */
export const clearError = (): void => {
  announcer ??= document.getElementById("status")
  if (announcer?.dataset.kind !== "error") return
  announcer.textContent = ""
  delete announcer.dataset.kind
}

export const formatTime = (ms: number): string =>
  new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })

export const field = (label: string, control: HTMLElement, hint?: string): HTMLElement => {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`
  control.id = id
  const hintId = hint === undefined ? undefined : `${id}-hint`
  if (hintId !== undefined) control.setAttribute("aria-describedby", hintId)
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint === undefined ? null : h("small", { id: hintId, class: "hint" }, hint)
  )
}
