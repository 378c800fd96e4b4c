import type pg from "pg"
import { CHANNEL } from "./schema.js"

export interface ListenerOptions {
  /** The driver's client class (the driver is loaded by the store that listens). */
  readonly Client: typeof pg.Client
  readonly connection: pg.ClientConfig
  /** Called on every NOTIFY, and after each (re)connection: commits may have been missed meanwhile. */
  readonly onWake: () => void
  /** First reconnection delay; doubles up to `maxBackoffMs`. */
  readonly backoffMs?: number
  readonly maxBackoffMs?: number
}

/**
 * One connection that `LISTEN`s on the append channel and wakes subscribers. When the connection is
 * lost it reconnects with exponential backoff, and wakes subscribers once it is back so that they
 * catch up from their last delivered position (notifications sent meanwhile are gone). Returns the
 * function that stops it.
 */
export const listenForCommits = (options: ListenerOptions): (() => void) => {
  const initial = options.backoffMs ?? 50
  const max = options.maxBackoffMs ?? 5_000
  let delay = initial
  let stopped = false
  let client: pg.Client | undefined
  let timer: NodeJS.Timeout | undefined

  const retry = () => {
    if (stopped || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      connect()
    }, delay)
    delay = Math.min(delay * 2, max)
  }

  const connect = () => {
    if (stopped) return
    const current = new options.Client(options.connection)
    client = current
    let lost = false
    const onLost = () => {
      if (lost) return
      lost = true
      current.end().catch(() => undefined)
      if (client === current) client = undefined
      retry()
    }
    current.on("error", onLost)
    current.on("end", onLost)
    current.on("notification", () => options.onWake())
    current
      .connect()
      .then(() => current.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (stopped) return void current.end().catch(() => undefined)
        delay = initial
        options.onWake()
      })
      .catch(onLost)
  }

  connect()
  return () => {
    stopped = true
    if (timer !== undefined) clearTimeout(timer)
    client?.end().catch(() => undefined)
    client = undefined
  }
}
