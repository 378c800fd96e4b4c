/**
 * The start-up benchmark's baseline, bundled like the server: node, the same event store opened on
 * the same file, an Express server whose `/readyz` asks the store what the real one asks (a stream
 * read), and nothing else (no projections, no media, no log followers). `SPACES_DB_PATH` names the
 * file.
 */
import { EventStore } from "@spaces/domain"
import { SqliteEventStore } from "@spaces/eventstore"
import { Effect, Layer, ManagedRuntime } from "effect"
import express from "express"

const runtime = ManagedRuntime.make(
  SqliteEventStore.layer({ path: process.env.SPACES_DB_PATH ?? "spaces.sqlite" }).pipe(Layer.orDie)
)
await runtime.runPromise(Effect.void)
const app = express()
app.get("/readyz", async (_req, res) => {
  await runtime.runPromise(Effect.flatMap(EventStore, (store) => store.readStream("$readyz-probe")))
  res.json({ status: "ready" })
})
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(
    `${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}` })}\n`
  )
})
process.on("SIGTERM", () => server.close(() => runtime.dispose().then(() => process.exit(0))))
