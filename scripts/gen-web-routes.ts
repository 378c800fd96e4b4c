/**
 * Writes the web client's route table (packages/http/web/src/routes.gen.ts) from the route registry
 * of a server started here on an in-memory log, without media, captions or the web client.
 *
 *   npm run gen:web-routes
 */
import { writeFileSync } from "node:fs"
import { loadConfig, start, WEB_ROUTES_FILE, webRoutesModule } from "@spaces/http"

const server = await start(
  loadConfig({
    // Development sign-in on: its route is one the web client calls.
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    SPACES_DB_PATH: ":memory:",
    SPACES_MEDIA: "off",
    SPACES_CAPTIONS_ENGINE: "off",
    SPACES_WEB_CLIENT: "false",
    SPACES_LOG_LEVEL: "silent"
  })
)
try {
  writeFileSync(WEB_ROUTES_FILE, webRoutesModule(server.routes))
  console.log(`wrote ${WEB_ROUTES_FILE} (${server.routes.length} routes)`)
} finally {
  await server.close()
}
