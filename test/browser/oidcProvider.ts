/**
 * A real OpenID provider for the browser tests: `oidc-provider` in this process, on loopback, with
 * one public client (authorization code + PKCE, refresh tokens, revocation, RP-initiated logout)
 * and its built-in login and consent forms. Access tokens are JWTs for one resource (the Spaces
 * API's audience) with a short lifetime, so a test sees the client refresh them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { exportJWK, generateKeyPair } from "jose"
import Provider from "oidc-provider"

export const API_RESOURCE = "https://api.spaces.test"
export const API_SCOPE = "spaces"
export const CLIENT_ID = "spaces-web"

export interface RunningProvider {
  readonly issuer: string
  readonly jwksUrl: string
  readonly tokenEndpoint: string
  /** Registers the web client once the app's origin is known (its redirect URI is the app's `/`). */
  readonly serve: (appUrl: string) => void
  readonly close: () => Promise<void>
}

/** Listens first (the issuer URL holds the port); `serve` builds the provider for the app's origin. */
export const startProvider = async (options: {
  readonly accessTokenTtlSeconds: number
}): Promise<RunningProvider> => {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server: Server = createServer((req, res) => {
    if (handler === undefined) {
      res.statusCode = 503
      res.end()
    } else handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const { privateKey } = await generateKeyPair("RS256", { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: "test-key", alg: "RS256", use: "sig" }

  const serve = (appUrl: string) => {
    const home = `${appUrl}/`
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          token_endpoint_auth_method: "none",
          redirect_uris: [home],
          post_logout_redirect_uris: [home],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"]
        }
      ],
      jwks: { keys: [signingKey] },
      cookies: { keys: ["test-cookie-key-0123456789abcdef"] },
      scopes: ["openid", "profile", "offline_access", API_SCOPE],
      findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
      // Refresh tokens for the web client without offline_access's extra consent round.
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
      ttl: {
        AccessToken: options.accessTokenTtlSeconds,
        IdToken: 3600,
        RefreshToken: 86_400,
        Interaction: 600,
        Session: 3600,
        Grant: 86_400
      },
      // The web client's token, refresh and revocation calls come from the app's origin.
      clientBasedCORS: (_ctx, origin, client) =>
        (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin),
      features: {
        devInteractions: { enabled: true },
        revocation: { enabled: true },
        rpInitiatedLogout: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => API_RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== API_RESOURCE) throw new Error(`unknown resource ${resource}`)
            return {
              scope: API_SCOPE,
              audience: API_RESOURCE,
              accessTokenTTL: options.accessTokenTtlSeconds,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: "RS256" } }
            }
          }
        }
      }
    })
    handler = provider.callback()
  }

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    serve,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
