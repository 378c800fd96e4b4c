/**
 * A throwaway Redis for tests and benchmarks: Debian's `redis-server` on loopback, a free port, its
 * files in a temp directory, no persistence; stopped and removed by `stop()`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Redis } from "ioredis"

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly stop: () => Promise<void>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const ready = async (url: string, child: ChildProcess, deadline: number) => {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on("error", () => {})
    try {
      await client.connect()
      if ((await client.ping()) === "PONG") return
    } catch {
      // not listening yet
    } finally {
      client.disconnect()
    }
    if (Date.now() > deadline) throw new Error("redis-server did not start within 30 s")
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const startRedisServer = async (): Promise<RedisServer> => {
  const dir = mkdtempSync(join(tmpdir(), "spaces-redis-"))
  // A port taken between the probe and the bind makes redis exit: try another.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const child = spawn(
      "redis-server",
      ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "ignore", "pipe"] }
    )
    const url = `redis://127.0.0.1:${port}`
    const stopChild = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r))
        child.kill("SIGKILL")
        await exited
      }
    }
    const onExit = () => child.kill("SIGKILL")
    process.once("exit", onExit)
    try {
      await ready(url, child, Date.now() + 30_000)
    } catch (error) {
      await stopChild()
      process.off("exit", onExit)
      if (attempt < 3) continue
      rmSync(dir, { recursive: true, force: true })
      throw error
    }
    return {
      url,
      stop: async () => {
        process.off("exit", onExit)
        await stopChild()
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
