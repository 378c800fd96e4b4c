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

const defaultWrite = (line: string, level: LogLevel) => {
  if (level === "warn" || level === "error") process.stderr.write(`${line}\n`)
  else process.stdout.write(`${line}\n`)
}
