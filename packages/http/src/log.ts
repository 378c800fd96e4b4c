/** A tiny structured logger: one JSON object per line on stdout (stderr for warnings and errors). */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent"

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  readonly debug: (msg: string, fields?: Record<string, unknown>) => void
  readonly info: (msg: string, fields?: Record<string, unknown>) => void
  readonly warn: (msg: string, fields?: Record<string, unknown>) => void
  readonly error: (msg: string, fields?: Record<string, unknown>) => void
}

export const makeLogger = (
  level: LogLevel,
  write: (line: string, level: LogLevel) => void = defaultWrite
): Logger => {
  const at =
    (l: Exclude<LogLevel, "silent">) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (rank[l] < rank[level]) return
      write(JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields }), l)
    }
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }
}

/** Lines held for stdout: written once per turn of the event loop (see `defaultWrite`). */
let pending = ""
let scheduled = false
/** Held lines are written at once past this many characters. */
const PENDING_MAX = 65_536

const flush = () => {
  scheduled = false
  if (pending === "") return
  const out = pending
  pending = ""
  process.stdout.write(out)
}

/**
 * Warnings and errors go to stderr at once. Lines for stdout (a request log line per request) are
 * joined and written once the loop turn that logged them is over: stdout to a file or a pipe is a
 * synchronous write, and one system call for every request of a turn instead of one each costs
 * the server less. They are written before the process exits too (also on `process.exit`).
 */
const defaultWrite = (line: string, level: LogLevel) => {
  if (level === "warn" || level === "error") {
    process.stderr.write(`${line}\n`)
    return
  }
  pending += `${line}\n`
  if (pending.length > PENDING_MAX) flush()
  else if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}
process.once("exit", flush)
