/**
 * Several server nodes on this machine, as a deployment runs them: one PostgreSQL log, one Redis
 * broker, each node its own process with its own HTTP port and media port range.
 */
import { type ChildProcess, fork } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type PostgresCluster, startPostgresCluster } from "@spaces/eventstore/testing"
import { type RedisServer, startRedisServer } from "@spaces/http/testing"
import { testEnv } from "../http/harness.js"
import type { PeerRequest } from "./peerDriver.js"

const root = new URL("../..", import.meta.url).pathname

export interface Node {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** Drives a plain-RTP peer on this node's media plane (see peerDriver.ts). */
  readonly ask: <A>(request: PeerRequest) => Promise<A>
  /** Everything the node logged so far (JSON lines). */
  readonly log: () => string
}

export interface Cluster {
  /** The log's PostgreSQL database ("" on SQLite). */
  readonly postgresUrl: string
  /** The shared SQLite file (when the cluster runs on SQLite). */
  readonly sqlitePath: string
  readonly redisUrl: string
  readonly nodes: Array<Node>
  /** Starts one more node (e.g. `d`), on its own media port range. */
  readonly startNode: (name: string, index: number) => Promise<Node>
  readonly stop: () => Promise<void>
}

/** The media ports of node `index`: 200 per node from a base of their own per test file. */
const mediaPorts = (base: number, index: number) => ({
  SPACES_MEDIA_MIN_PORT: String(base + index * 200),
  SPACES_MEDIA_MAX_PORT: String(base + index * 200 + 199)
})

const spawnNode = (name: string, env: Record<string, string>) =>
  new Promise<Node>((resolve, reject) => {
    const child = fork(join(root, "test/nodes/nodeProcess.ts"), [], {
      cwd: root,
      env: { ...process.env, ...env },
      execArgv: ["--conditions=@spaces/source", "--import", "tsx"],
      stdio: ["ignore", "pipe", "pipe", "ipc"]
    })
    let out = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr!.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    let next = 0
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    child.on(
      "message",
      (message: {
        type?: string
        url?: string
        id?: number
        ok?: boolean
        value?: unknown
        error?: string
      }) => {
        if (message.type === "listening" && message.url !== undefined) {
          clearTimeout(timer)
          resolve({
            name,
            url: message.url,
            child,
            log: () => out,
            ask: <A>(request: PeerRequest) =>
              new Promise<A>((done, fail) => {
                const id = ++next
                pending.set(id, { resolve: done as (v: unknown) => void, reject: fail })
                child.send({ id, ...request })
              })
          })
          return
        }
        if (message.id === undefined) return
        const waiter = pending.get(message.id)
        pending.delete(message.id)
        if (message.ok) waiter?.resolve(message.value)
        else waiter?.reject(new Error(`node ${name}: ${message.error}`))
      }
    )
    const timer = setTimeout(() => reject(new Error(`node ${name} did not start: ${out}`)), 120_000)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      for (const w of pending.values()) w.reject(new Error(`node ${name} exited (${code ?? signal})`))
      pending.clear()
      reject(new Error(`node ${name} exited (${code ?? signal}): ${out}`))
    })
  })

export const startCluster = async (options: {
  readonly names: ReadonlyArray<string>
  readonly mediaPortBase: number
  readonly env?: Record<string, string>
  /** The log: PostgreSQL (default), or one SQLite file shared by the node processes of this host. */
  readonly store?: "postgres" | "sqlite"
}): Promise<Cluster> => {
  const shared = mkdtempSync(join(tmpdir(), "spaces-nodes-"))
  const sqlitePath = join(shared, "spaces.sqlite")
  const pg: PostgresCluster | undefined =
    options.store === "sqlite" ? undefined : await startPostgresCluster({ settings: { fsync: "off" } })
  let redis: RedisServer | undefined
  const dirs: Array<string> = []
  const nodes: Array<Node> = []
  const stop = async () => {
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((done) => {
            if (n.child.exitCode !== null || n.child.signalCode !== null) return done()
            n.child.once("exit", () => done())
            n.child.kill("SIGKILL")
          })
      )
    )
    await redis?.stop()
    pg?.stop()
    for (const dir of [...dirs, shared]) rmSync(dir, { recursive: true, force: true })
  }
  try {
    redis = await startRedisServer()
    const postgresUrl = pg === undefined ? "" : await pg.createDatabase("spaces")
    const storeEnv: Record<string, string> =
      pg === undefined
        ? { SPACES_DB_PATH: sqlitePath, SPACES_VIEWS_PATH: "memory" }
        : { SPACES_POSTGRES_URL: postgresUrl }
    const redisUrl = redis.url
    const startNode = async (name: string, index: number) => {
      const dir = mkdtempSync(join(tmpdir(), `spaces-node-${name}-`))
      dirs.push(dir)
      const node = await spawnNode(
        name,
        testEnv(dir, {
          ...storeEnv,
          SPACES_REDIS_URL: redisUrl,
          SPACES_NODE_ID: `node-${name}`,
          SPACES_MEDIA: "on",
          SPACES_MEDIA_WORKERS: "1",
          SPACES_CAPTIONS_ENGINE: "off",
          SPACES_LOG_LEVEL: "info",
          ...mediaPorts(options.mediaPortBase, index),
          ...options.env
        })
      )
      nodes.push(node)
      return node
    }
    // One after another: each node migrates nothing (the log's schema exists once the first is up).
    for (const [index, name] of options.names.entries()) await startNode(name, index)
    return { postgresUrl, sqlitePath, redisUrl, nodes, startNode, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
