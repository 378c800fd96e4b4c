/**
 * Child process of the crash test: waits for a line on stdin (so the parent can start it early and
 * let module loading overlap the previous round), then appends batches of varying size to a SQLite file as fast as it
 * can and prints `ack <batch> <size>` on stdout after each append has been acknowledged. stdout to a pipe is
 * synchronous on Linux, so a printed line means the commit happened before it. Runs until killed.
 *
 * Usage: node --conditions=@spaces/source --import tsx crashWriter.ts <file> <normal|full> <first batch>
 */
import { Effect } from "effect"
import { crashBatch } from "../../contract/crashTest.js"
import { makeSqliteEventStore } from "../SqliteEventStore.js"

const [path, synchronous, first] = process.argv.slice(2)
if (path === undefined || (synchronous !== "normal" && synchronous !== "full")) {
  process.stderr.write("usage: crashWriter <file> <normal|full> <first batch>\n")
  process.exit(2)
}
await new Promise((resolve) => process.stdin.once("data", resolve))
const store = makeSqliteEventStore({ path, synchronous })
// Never outlive the parent: stop when the pipe closes, and in any case after a while.
process.stdout.on("error", () => process.exit(1))
const deadline = Date.now() + 20_000

for (let batch = Number(first ?? 0); Date.now() < deadline; batch++) {
  const events = crashBatch(batch)
  await Effect.runPromise(store.append(`crash-${batch % 5}`, events, "any"))
  process.stdout.write(`ack ${batch} ${events.length}\n`)
  // Let the event loop run now and then, so a closed pipe is noticed.
  if (batch % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
}
