import { ServiceId, UserId } from "@spaces/domain"
import { Schema } from "effect"
import type { App } from "../app/context.js"
import { CAPTIONS_SCOPE } from "../auth/tokens.js"
import { problems } from "../problems.js"
import type { Routes } from "./registry.js"

const DevTokenRequest = Schema.Union(
  Schema.Struct({ user: UserId }),
  Schema.Struct({ service: ServiceId })
).annotations({ identifier: "DevTokenRequest" })

const DevToken = Schema.Struct({
  token: Schema.String,
  tokenType: Schema.Literal("Bearer"),
  expiresIn: Schema.Int
}).annotations({ identifier: "DevToken" })

/**
 * Development sign-in: a token for any user (or, only with SPACES_DEV_AUTH_SERVICES=true, for a
 * service with the captions scope). Served only when dev auth is on: by default in a development
 * run (NODE_ENV=development|test) with the generated secret, opt-in (SPACES_DEV_AUTH=true) when
 * NODE_ENV is unset, never in production.
 */
export const mountDev = (app: App, routes: Routes) => {
  if (!app.config.auth.devTokens) return
  routes.add(
    {
      method: "post",
      path: "/v1/dev/token",
      summary: "Development only: a signed token for a user ({user}) or a service ({service})",
      tag: "Development",
      auth: "public",
      body: DevTokenRequest,
      bodyRequired: true,
      response: { status: 200, schema: DevToken },
      problems: [403]
    },
    async ({ body: request }, _req, res) => {
      if ("service" in request && !app.config.auth.devServiceTokens)
        throw problems.forbidden(
          "dev-service-tokens-off",
          "development sign-in mints service identities only with SPACES_DEV_AUTH_SERVICES=true"
        )
      const token = await app.tokens
        .issue(
          "user" in request
            ? { kind: "user", userId: request.user }
            : { kind: "service", serviceId: request.service, scopes: [CAPTIONS_SCOPE] }
        )
        .catch((error: unknown) => {
          throw problems.unavailable("dev-tokens-unavailable", String(error))
        })
      res.json({ token, tokenType: "Bearer", expiresIn: app.config.auth.tokenTtlSeconds })
    }
  )
}
