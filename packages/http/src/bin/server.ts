import { ConfigInvalid, loadConfig } from "../config.js"
import { start } from "../main.js"

/**
 * `--default-node-env=<value>` fills NODE_ENV when it is unset or empty: `npm start` passes
 * `development`, so a checkout runs with development sign-in while any NODE_ENV set by an
 * operator wins.
 */
const environment = (): Readonly<Record<string, string | undefined>> => {
  const flag = process.argv.slice(2).find((arg) => arg.startsWith("--default-node-env="))
  const fallback = flag?.slice("--default-node-env=".length)
  if (fallback === undefined || fallback === "" || (process.env.NODE_ENV ?? "") !== "") return process.env
  return { ...process.env, NODE_ENV: fallback }
}

/** `npm start`: configuration from the environment, graceful shutdown on SIGTERM/SIGINT. */
const main = async () => {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(environment())
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`spaces: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const server = await start(config)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    server.app.logger.info("shutting down", { signal })
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.logger.error("shutdown failed", { error: String(error) })
        process.exit(1)
      }
    )
  }
  process.on("SIGTERM", () => stop("SIGTERM"))
  process.on("SIGINT", () => stop("SIGINT"))
}

main().catch((error: unknown) => {
  process.stderr.write(`spaces: failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
