/**
 * Child process of the PostgreSQL crash test: waits for a line on stdin, then appends batches of
 * varying size as fast as it can, several appends in flight at once, and prints `ack <batch> <size>`
 * on stdout after each append has returned. stdout to a pipe is synchronous on Linux, so a printed
 * line means the commit happened before it. Runs until killed.
 *
 * Usage: node --conditions=@spaces/source --import tsx crashWriter.ts <connection string> <first batch>
 */
import { Effect } from "effect"
import { crashBatch } from "../../contract/crashTest.js"
import { makePostgresEventStore } from "../PostgresEventStore.js"

const [url, first] = process.argv.slice(2)
if (url === undefined) {
  process.stderr.write("usage: crashWriter <connection string> <first batch>\n")
  process.exit(2)
}
const store = await makePostgresEventStore({ connectionString: url, applicationName: "spaces-crash" })
await new Promise((resolve) => process.stdin.once("data", resolve))
// Never outlive the parent: stop when the pipe closes, and in any case after a while.
process.stdout.on("error", () => process.exit(1))
const deadline = Date.now() + 20_000
let next = Number(first ?? 0)

const writer = async (lane: number) => {
  while (Date.now() < deadline) {
    const batch = next++
    const events = crashBatch(batch)
    await Effect.runPromise(store.append(`crash-${lane}`, events, "any"))
    process.stdout.write(`ack ${batch} ${events.length}\n`)
  }
}
await Promise.all(Array.from({ length: 4 }, (_, lane) => writer(lane)))
process.exit(0)
