import { type RouteSpec, routeKey } from "./registry.js"

/** Where the web client's copy of the route table lives (generated, checked by a test). */
export const WEB_ROUTES_FILE = "packages/http/web/src/routes.gen.ts"

/**
 * The web client's route table: every `METHOD /path` of the registry, so that the client's calls
 * are typed from the same table the server serves (a call to a route that is gone fails the
 * client's typecheck). Written by `npm run gen:web-routes`; test/http/webRoutes.e2e.spec.ts fails
 * when it is stale.
 */
export const webRoutesModule = (specs: ReadonlyArray<Pick<RouteSpec, "method" | "path">>) =>
  [
    "// Generated from the server's route registry by `npm run gen:web-routes`: do not edit.",
    "// test/http/webRoutes.e2e.spec.ts fails when this table and the server's differ.",
    "export const ROUTES = [",
    // One key a line, formatted as the linter formats it (no trailing comma).
    [...new Set(specs.map(routeKey))]
      .sort()
      .map((key) => `  "${key}"`)
      .join(",\n"),
    "] as const",
    "",
    "/** `METHOD /path` of a route the server serves. */",
    "export type RouteKey = (typeof ROUTES)[number]",
    ""
  ].join("\n")
