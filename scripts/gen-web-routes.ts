/**
 * Writes the web client's route table (packages/http/web/src/routes.gen.ts) from the route registry
 * of a server started here with the embedded defaults (a temporary SQLite file, no media).
 *
 *   npm run gen:web-routes
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { loadConfig, start, WEB_ROUTES_FILE, webRoutesModule } from "@spaces/http"

const dir = mkdtempSync(join(tmpdir(), "spaces-web-routes-"))
const server = await start(
  loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SPACES_DB_PATH: join(dir, "spaces.sqlite"),
    SPACES_MEDIA: "off",
    SPACES_WEB_CLIENT: "false",
    SPACES_LOG_LEVEL: "silent",
    SPACES_CAPTIONS_ENGINE: "off",
    // Development sign-in on: its route is one the web client calls.
    NODE_ENV: "development"
  })
)
try {
  writeFileSync(WEB_ROUTES_FILE, webRoutesModule(server.routes))
  console.log(`wrote ${WEB_ROUTES_FILE} (${server.routes.length} routes)`)
} finally {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
}
