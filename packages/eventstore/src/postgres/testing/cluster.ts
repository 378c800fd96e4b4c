/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temp directory, started
 * with `pg_ctl` listening only on a unix socket in that directory (no TCP port, so parallel runs
 * never collide), stopped and removed by `stop()`.
 *
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (Debian's
 * package creates it; `nobody` otherwise) through `runuser`; as anyone else it runs as that user.
 * Clients connect as the superuser `spaces` with trust authentication over the socket.
 */
import { execFileSync } from "node:child_process"
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pg from "pg"

export interface PostgresCluster {
  /** The temp directory holding the data directory, the socket and the server log. */
  readonly dir: string
  /** A connection string for `database` (default `postgres`) over the cluster's socket. */
  readonly url: (database?: string) => string
  /** Creates a fresh database (named `name`, or a unique one) and returns its connection string. */
  readonly createDatabase: (name?: string) => Promise<string>
  /** Stops the server (immediate shutdown) and removes the directory. Idempotent. */
  readonly stop: () => void
}

export interface ClusterOptions {
  /** Extra `postgresql.conf` settings, e.g. `{ fsync: "off" }` for tests that never crash the server. */
  readonly settings?: Readonly<Record<string, string>>
}

const SUPERUSER = "spaces"

/** The newest `/usr/lib/postgresql/<n>/bin` (Debian's layout), else the programs on PATH. */
const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin")
}

/** The unprivileged account the server runs as when we are root. */
const serverUser = (): string => {
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" })
    return "postgres"
  } catch {
    return "nobody"
  }
}

let counter = 0

export const startPostgresCluster = async (options: ClusterOptions = {}): Promise<PostgresCluster> => {
  const bin = binDir()
  const program = (name: string) => (bin === undefined ? name : join(bin, name))
  const asRoot = process.getuid?.() === 0
  const user = asRoot ? serverUser() : undefined
  const run = (name: string, args: ReadonlyArray<string>) => {
    const [file, argv] =
      user === undefined ? [program(name), args] : ["runuser", ["-u", user, "--", program(name), ...args]]
    try {
      execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"], cwd: dir })
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? ""
      throw new Error(`${name} failed: ${stderr || String(error)}`)
    }
  }

  const dir = mkdtempSync(join(tmpdir(), "spaces-pg-"))
  const data = join(dir, "data")
  const log = join(dir, "server.log")
  if (user !== undefined) {
    const uid = Number(execFileSync("id", ["-u", user]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", user]).toString().trim())
    chownSync(dir, uid, gid)
    mkdirSync(data, { mode: 0o700 })
    chownSync(data, uid, gid)
  }
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    process.off("exit", stop)
    try {
      if (existsSync(join(data, "postmaster.pid")))
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  // Never leave a server behind, even when the test process ends without running its hooks.
  process.once("exit", stop)
  try {
    run("initdb", [
      "-D",
      data,
      "-U",
      SUPERUSER,
      "--auth=trust",
      "--encoding=UTF8",
      "--no-locale",
      "--no-sync"
    ])
    const settings: Record<string, string> = {
      listen_addresses: "''",
      unix_socket_directories: `'${dir}'`,
      max_connections: "200",
      ...options.settings
    }
    appendFileSync(
      join(data, "postgresql.conf"),
      `\n${Object.entries(settings)
        .map(([key, value]) => `${key} = ${value}`)
        .join("\n")}\n`
    )
    run("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "120", "start"])
  } catch (error) {
    stop()
    throw error
  }

  const url = (database = "postgres") =>
    `postgresql://${SUPERUSER}@/${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}`
  return {
    dir,
    url,
    createDatabase: async (name) => {
      const database = name ?? `spaces_${process.pid}_${++counter}_${Date.now()}`
      const client = new pg.Client({ connectionString: url() })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`)
      } finally {
        await client.end()
      }
      return url(database)
    },
    stop
  }
}
