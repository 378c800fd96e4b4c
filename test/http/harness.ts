import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EventStore, UserId, ServiceId } from "@spaces/domain"
import { type PostgresCluster, startPostgresCluster } from "@spaces/eventstore/testing"
import { CAPTIONS_SCOPE, loadConfig, makeTokens, type RunningServer, start } from "@spaces/http"
import { Effect, Runtime, Stream } from "effect"

export const SECRET = "test-secret-test-secret-test-secret-0123456789"

/** Env for a test server: a temp SQLite file, no media, quiet logs, limits out of the way. */
export const testEnv = (dir: string, env: Record<string, string> = {}): Record<string, string> => ({
  PORT: "0",
  HOST: "127.0.0.1",
  SPACES_DB_PATH: join(dir, "spaces.sqlite"),
  SPACES_MEDIA: "off",
  SPACES_WEB_CLIENT: "false",
  SPACES_LOG_LEVEL: "silent",
  SPACES_JWT_SECRET: SECRET,
  // NODE_ENV unset with a configured secret: development sign-in is opt-in.
  SPACES_DEV_AUTH: "true",
  SPACES_RATE_LIMIT_PER_SECOND: "1000000",
  SPACES_RATE_LIMIT_BURST: "1000000",
  SPACES_AUTH_FAILURES_PER_MINUTE: "1000000",
  SPACES_POSTS_PER_MINUTE: "1000000",
  SPACES_SSE_MAX_PER_USER: "10000",
  ...env
})

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
  readonly text: string
}

export const tokens = makeTokens(loadConfig({ SPACES_JWT_SECRET: SECRET, SPACES_LOG_LEVEL: "silent" }).auth)
export const userToken = (user: string) => tokens.issue({ kind: "user", userId: UserId.make(user) })
export const serviceToken = (service: string) =>
  tokens.issue({ kind: "service", serviceId: ServiceId.make(service), scopes: [CAPTIONS_SCOPE] })

export const request = async (
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}
): Promise<Answer> => {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined
  if (options.raw !== undefined) body = options.raw
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers["content-type"] ??= "application/json"
  }
  const response = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed, text }
}

/** A user's view of the API: every call carries their token. */
export const client = async (base: string, user: string) => {
  const token = await userToken(user)
  return {
    user,
    token,
    call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      request(base, method, path, {
        token,
        ...(body === undefined ? {} : { body }),
        ...(headers === undefined ? {} : { headers })
      })
  }
}
export type Client = Awaited<ReturnType<typeof client>>

export interface TestServer {
  readonly server: RunningServer
  readonly url: string
  readonly dir: string
  readonly close: () => Promise<void>
  /** Events in the whole log (read through the server's own store). */
  readonly logLength: () => Promise<number>
}

/** Which event store the test server runs on. */
export type TestStore = "sqlite" | "postgres"

/**
 * One throwaway PostgreSQL cluster per test process, shared by the servers that run on it (each
 * gets its own database) and stopped when the last of them closes.
 */
let cluster: { readonly started: Promise<PostgresCluster>; users: number } | undefined
const acquireDatabase = async () => {
  cluster ??= { started: startPostgresCluster({ settings: { fsync: "off" } }), users: 0 }
  const current = cluster
  current.users++
  const release = () => {
    if (--current.users > 0) return
    if (cluster === current) cluster = undefined
    return current.started.then((c) => c.stop())
  }
  try {
    return { url: await (await current.started).createDatabase(), release }
  } catch (error) {
    await release()
    throw error
  }
}

export const startTestServer = async (
  env: Record<string, string> = {},
  options: { readonly store?: TestStore } = {}
): Promise<TestServer> => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-http-"))
  const database = options.store === "postgres" ? await acquireDatabase() : undefined
  let server: RunningServer
  try {
    const storeEnv = database === undefined ? {} : { SPACES_POSTGRES_URL: database.url }
    const config = loadConfig(testEnv(dir, { ...storeEnv, ...env }))
    if (config.store.kind !== (options.store ?? "sqlite"))
      throw new Error(`test server asked for ${options.store} but configured ${config.store.kind}`)
    server = await start(config)
  } catch (error) {
    await database?.release()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    server,
    url: server.url,
    dir,
    close: async () => {
      await server.close()
      await database?.release()
      rmSync(dir, { recursive: true, force: true })
    },
    logLength: () =>
      Runtime.runPromise(server.app.runtime)(
        Effect.flatMap(EventStore, (store) => Stream.runCount(store.readAll(0)))
      )
  }
}

export interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: unknown
}

/** Reads a Server-Sent Events stream with fetch; `next(predicate)` waits (bounded) for a matching event. */
export const openSse = async (url: string, headers: Record<string, string> = {}) => {
  const controller = new AbortController()
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal
  })
  const events: Array<SseEvent> = []
  const waiters = new Set<() => void>()
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ""
  const pump = async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += value
        let cut = buffer.indexOf("\n\n")
        while (cut >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          let event = "message"
          let id: string | undefined
          const data: Array<string> = []
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7)
            else if (line.startsWith("id: ")) id = line.slice(4)
            else if (line.startsWith("data: ")) data.push(line.slice(6))
          }
          if (data.length > 0) {
            events.push({ event, id, data: JSON.parse(data.join("\n")) })
            for (const w of waiters) w()
          }
          cut = buffer.indexOf("\n\n")
        }
      }
    } catch {
      // aborted
    }
  }
  void pump()
  return {
    status: response.status,
    events,
    next: (predicate: (e: SseEvent) => boolean, timeoutMs = 3000) =>
      new Promise<SseEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate)
          if (found === undefined) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no matching SSE event within ${timeoutMs}ms (${events.length} received)`))
        }, timeoutMs)
        if (!check()) waiters.add(check)
      }),
    close: () => controller.abort()
  }
}

/** Polls until `check` passes (bounded): for eventually-consistent views, not a timing assertion. */
export const eventually = async <A>(probe: () => Promise<A>, check: (a: A) => boolean, timeoutMs = 3000) => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (check(value)) return value
    if (Date.now() > until) return value
    await new Promise((r) => setTimeout(r, 20))
  }
}
