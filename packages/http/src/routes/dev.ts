import { ServiceId, UserId } from "@spaces/domain"
import { Schema } from "effect"
import type { App } from "../app/context.js"
import { CAPTIONS_SCOPE } from "../auth/tokens.js"
import { problems } from "../problems.js"
import { decodeBody } from "./decode.js"
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
 * Development sign-in: a token for any user (or for a service, with the captions scope). Served
 * only when dev auth is on (SPACES_DEV_AUTH, default on outside NODE_ENV=production).
 */
export const mountDev = (app: App, routes: Routes) => {
  if (!app.config.auth.devTokens) return
  routes.add(
    {
      method: "post",
      path: "/v1/dev/token",
      summary: "Development only: a signed token for a user ({user}) or a service ({service})",
      tag: "Development",
      auth: "none",
      body: DevTokenRequest,
      bodyRequired: true,
      response: { status: 200, schema: DevToken },
      problems: []
    },
    async (req, res) => {
      const request = decodeBody(DevTokenRequest, req)
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
