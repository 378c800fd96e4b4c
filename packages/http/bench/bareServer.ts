/** A bare Express app with the same body parsing, for the benchmark's baseline. */
import express from "express"

const app = express()
app.use(express.json({ limit: 16_384 }))
const feed = Array.from({ length: 5 }, (_, i) => ({
  space: { spaceId: `s-${i}`, title: "A Space", listenerCount: i }
}))
app.post("/bare/join", (req, res) => {
  res.json({ events: [{ _tag: "ListenerJoined", user: req.get("x-user") }], revision: 1, position: 1 })
})
app.get("/bare/feed", (_req, res) => {
  res.json(feed)
})
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address()
  process.stdout.write(
    `${JSON.stringify({ msg: "listening", url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}` })}\n`
  )
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
