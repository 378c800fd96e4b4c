import type { Request, Response } from "express"
import { Effect, Fiber, Runtime } from "effect"
import type { UserId } from "@spaces/domain"
import type { App, AppServices } from "../app/context.js"
import { problems } from "../problems.js"

/** One open Server-Sent Events connection. */
export interface SseConnection {
  readonly kind: "room" | "feed" | "notifications"
  readonly user: UserId
  readonly close: () => void
}

/** The open SSE connections, counted for /metrics and closed on shutdown. */
export class SseClients {
  readonly open = new Set<SseConnection>()
  count(kind: SseConnection["kind"]) {
    return this.countWhere((c) => c.kind === kind)
  }
  countOf(user: UserId) {
    return this.countWhere((c) => c.user === user)
  }
  private countWhere(matches: (connection: SseConnection) => boolean) {
    let n = 0
    for (const c of this.open) if (matches(c)) n++
    return n
  }
  closeAll() {
    for (const c of [...this.open]) c.close()
  }
}

/** A client that has this much unsent data is too slow: it is cut off and resumes with Last-Event-ID. */
const MAX_BUFFERED = 1 << 20
const HEARTBEAT_MS = 15_000

export interface SseWriter {
  readonly send: (event: string, data: unknown, id?: number) => Effect.Effect<void>
}

/** The resume point a client sent (header, or `lastEventId` query for clients that can't set it). */
export const lastEventId = (req: Request): number | undefined => {
  const raw =
    req.get("last-event-id") ??
    (typeof req.query.lastEventId === "string" ? req.query.lastEventId : undefined)
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined
  return Number(raw)
}

/**
 * Opens an event stream and runs `body` until the client goes away, the body ends, or the server
 * shuts down. The body's fiber is interrupted when the connection closes.
 */
export const openSse = (
  app: App,
  req: Request,
  res: Response,
  kind: SseConnection["kind"],
  user: UserId,
  body: (writer: SseWriter) => Effect.Effect<void, never, AppServices>
) => {
  // Each stream holds a connection and a fiber (a feed stream recomputes the feed): capped.
  const { maxPerUser, maxTotal } = app.config.sse
  if (app.sse.countOf(user) >= maxPerUser) throw problems.tooManyStreams("perUser", maxPerUser)
  if (app.sse.open.size >= maxTotal) throw problems.tooManyStreams("total", maxTotal)
  res.status(200)
  res.setHeader("content-type", "text/event-stream; charset=utf-8")
  res.setHeader("cache-control", "no-store")
  res.setHeader("connection", "keep-alive")
  res.setHeader("x-accel-buffering", "no")
  res.flushHeaders()
  res.write("retry: 2000\n\n")

  let closed = false
  const writer: SseWriter = {
    send: (event, data, id) =>
      Effect.sync(() => {
        if (closed) return
        const lines = JSON.stringify(data)
        res.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${lines}\n\n`)
        if (res.writableLength > MAX_BUFFERED) connection.close()
      })
  }
  const heartbeat = setInterval(() => {
    if (!closed) res.write(": ping\n\n")
  }, HEARTBEAT_MS)
  const fiber = Runtime.runFork(app.runtime)(body(writer))
  const connection: SseConnection = {
    kind,
    user,
    close: () => {
      if (closed) return
      closed = true
      clearInterval(heartbeat)
      app.sse.open.delete(connection)
      Effect.runFork(Fiber.interrupt(fiber))
      res.end()
    }
  }
  app.sse.open.add(connection)
  fiber.addObserver(() => connection.close())
  req.on("close", () => connection.close())
}
