import { Schema } from "effect"
import type { App } from "../app/context.js"
import type { Routes } from "./registry.js"

const OidcClient = Schema.Struct({
  issuer: Schema.String,
  clientId: Schema.String,
  scopes: Schema.String,
  resource: Schema.optional(Schema.String)
}).annotations({ identifier: "OidcClient" })

const SignInConfig = Schema.Struct({
  devSignIn: Schema.Boolean,
  oidc: Schema.NullOr(OidcClient)
}).annotations({ identifier: "SignInConfig" })

/**
 * How a client signs in here: whether the development route is served, and the OpenID Connect
 * client the web client uses (public values: the client is a public one, with PKCE).
 */
export const mountSignIn = (app: App, routes: Routes) => {
  const { oidc, devTokens } = app.config.auth
  const body: typeof SignInConfig.Type = {
    devSignIn: devTokens,
    oidc:
      oidc === undefined
        ? null
        : {
            issuer: oidc.issuer,
            clientId: oidc.clientId,
            scopes: oidc.scopes,
            ...(oidc.resource === undefined ? {} : { resource: oidc.resource })
          }
  }
  routes.add(
    {
      method: "get",
      path: "/v1/auth/config",
      summary:
        "How to sign in: development sign-in on or off, and the OpenID Connect client (issuer, client id, scopes)",
      tag: "Sign-in",
      auth: "public",
      response: { status: 200, schema: SignInConfig },
      problems: []
    },
    (_input, _req, res) => {
      res.json(body)
    }
  )
}
