/**
 * One server node for the multi-node tests: the real server (`start`, as `src/bin/server.ts` runs
 * it) in its own process, plus an IPC channel through which the test drives plain-RTP peers on this
 * node's media plane (the browser's role, as the single-node media tests do in-process).
 */
import { loadConfig, start } from "@spaces/http"
import { handlePeerRequests } from "./peerDriver.js"

const config = loadConfig(process.env)
const running = await start(config)
handlePeerRequests(running)
process.send?.({ type: "listening", url: running.url })
const stop = () => {
  void running.close().then(() => process.exit(0))
}
process.once("SIGTERM", stop)
process.once("SIGINT", stop)
process.once("disconnect", stop)
