/**
 * Server-Sent Events over `fetch`, so that the bearer token travels in a header (EventSource
 * can't set one). Reconnects after a pause until the signal aborts.
 */

export interface ServerEvent {
  readonly event: string
  readonly data: string
  readonly id: string | undefined
}

export interface StreamOptions {
  /** Asked again at every (re)connection: a refreshed access token is picked up. */
  readonly headers: () => Readonly<Record<string, string>>
  readonly signal: AbortSignal
  readonly onEvent: (event: ServerEvent) => void
  /** Called when the connection is (re)established or lost, for a connection indicator. */
  readonly onState?: (state: "open" | "closed") => void
  /** Answers with a status that won't get better by retrying (401, 403, 404, 410): stop. */
  readonly onFatal?: (status: number) => void
}

const parseBlock = (block: string): ServerEvent | null => {
  let event = "message"
  let id: string | undefined
  const data: Array<string> = []
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue
    const colon = line.indexOf(":")
    const name = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
    if (name === "event") event = value
    else if (name === "data") data.push(value)
    else if (name === "id") id = value
  }
  return data.length === 0 ? null : { event, data: data.join("\n"), id }
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener("abort", () => {
      clearTimeout(timer)
      resolve()
    })
  })

export const openEventStream = async (url: string, options: StreamOptions): Promise<void> => {
  const { signal } = options
  let backoff = 500
  // Sent back on reconnection so the server resumes after what we already have.
  let lastId: string | undefined
  while (!signal.aborted) {
    try {
      const response = await fetch(url, {
        headers: {
          ...options.headers(),
          accept: "text/event-stream",
          ...(lastId === undefined ? {} : { "last-event-id": lastId })
        },
        signal,
        cache: "no-store"
      })
      if (!response.ok || response.body === null) {
        if ([401, 403, 404, 410].includes(response.status)) {
          options.onFatal?.(response.status)
          return
        }
        throw new Error(`event stream answered ${response.status}`)
      }
      options.onState?.("open")
      backoff = 500
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ""
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value.replace(/\r\n?/g, "\n")
        let end = buffer.indexOf("\n\n")
        while (end !== -1) {
          const parsed = parseBlock(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          if (parsed?.id !== undefined) lastId = parsed.id
          if (parsed !== null) options.onEvent(parsed)
          end = buffer.indexOf("\n\n")
        }
      }
    } catch {
      // Network error or abort: retried below unless aborted.
    }
    if (signal.aborted) return
    options.onState?.("closed")
    await pause(backoff, signal)
    backoff = Math.min(backoff * 2, 8000)
  }
}
