/**
 * OpenID Connect sign-in (authorization code with PKCE, a public client): redirect to the
 * provider, exchange the code on return, refresh the access token before it expires, and sign out
 * (revoke the refresh token, then the provider's end-session page when it has one).
 */
import * as oauth from "oauth4webapi"
import { clearSession, currentSession, type Session, saveSession } from "./session.js"

export interface OidcClient {
  readonly issuer: string
  readonly clientId: string
  readonly scopes: string
  readonly resource?: string
}

export interface SignInConfig {
  readonly devSignIn: boolean
  readonly oidc: OidcClient | null
}

let config: Promise<SignInConfig> | undefined
/** The server's sign-in configuration (`GET /v1/auth/config`), fetched once per page. */
export const signInConfig = (): Promise<SignInConfig> => {
  config ??= fetch("/v1/auth/config", { headers: { accept: "application/json" } }).then(async (response) => {
    if (!response.ok) throw new Error(`the sign-in configuration answered ${response.status}`)
    return (await response.json()) as SignInConfig
  })
  return config
}

/** What the tab remembers between the redirect to the provider and the return. */
interface Pending {
  readonly state: string
  readonly nonce: string
  readonly verifier: string
  /** The screen to return to. */
  readonly hash: string
}
const pendingKey = "spaces.oidc.pending"

const loopback = (url: URL) => ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)

interface Provider {
  readonly as: oauth.AuthorizationServer
  readonly client: oauth.Client
  readonly options: { [oauth.allowInsecureRequests]?: boolean }
  readonly extra: Record<string, string>
}

let discovered: { readonly issuer: string; readonly provider: Promise<Provider> } | undefined
const providerFor = (oidc: OidcClient): Promise<Provider> => {
  if (discovered?.issuer !== oidc.issuer) {
    const issuer = new URL(oidc.issuer)
    // Plain http only for a provider on this machine (local runs and tests).
    const options =
      issuer.protocol === "http:" && loopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {}
    const provider = oauth
      .discoveryRequest(issuer, { algorithm: "oidc", ...options })
      .then((response) => oauth.processDiscoveryResponse(issuer, response))
      .then((as) => ({
        as,
        client: { client_id: oidc.clientId },
        options,
        extra: oidc.resource === undefined ? {} : { resource: oidc.resource }
      }))
    discovered = { issuer: oidc.issuer, provider }
    provider.catch(() => {
      discovered = undefined
    })
  }
  return discovered.provider
}

const redirectUri = () => `${location.origin}/`

/** Sends the browser to the provider's sign-in page. */
export const startSignIn = async (oidc: OidcClient): Promise<void> => {
  const { as, extra } = await providerFor(oidc)
  if (as.authorization_endpoint === undefined) throw new Error("the provider has no authorization endpoint")
  const pending: Pending = {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
    hash: location.hash
  }
  sessionStorage.setItem(pendingKey, JSON.stringify(pending))
  const url = new URL(as.authorization_endpoint)
  const params = {
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    response_type: "code",
    scope: oidc.scopes,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: "S256",
    state: pending.state,
    nonce: pending.nonce,
    ...extra
  }
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  location.assign(url.href)
}

const sessionFrom = (
  result: oauth.TokenEndpointResponse,
  userId: string,
  previous?: Extract<Session, { kind: "oidc" }>
): Session => {
  const now = Date.now()
  return {
    kind: "oidc",
    userId,
    token: result.access_token,
    obtainedAt: now,
    expiresAt: now + (result.expires_in ?? 300) * 1000,
    // A provider that rotates refresh tokens sends a new one; one that does not keeps the old.
    refreshToken: result.refresh_token ?? previous?.refreshToken,
    idToken: result.id_token ?? previous?.idToken
  }
}

/**
 * Finishes a sign-in when the page is the provider's redirect back (`?code=…&state=…`): checks the
 * state, exchanges the code with the PKCE verifier, validates the ID token (nonce included) and
 * keeps the session. Answers false when this page load is not a return from the provider.
 */
export const completeSignIn = async (oidc: OidcClient): Promise<boolean> => {
  const here = new URL(location.href)
  if (!here.searchParams.has("state")) return false
  const raw = sessionStorage.getItem(pendingKey)
  sessionStorage.removeItem(pendingKey)
  const pending = raw === null ? null : (JSON.parse(raw) as Pending)
  // The code is single-use: take it out of the address bar (and history) straight away.
  history.replaceState(null, "", `${location.pathname}${pending?.hash ?? ""}`)
  if (pending === null) throw new Error("the sign-in answer does not belong to a sign-in started in this tab")
  const { as, client, options, extra } = await providerFor(oidc)
  const params = oauth.validateAuthResponse(as, client, here, pending.state)
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    { ...options, additionalParameters: extra }
  )
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true
  })
  const claims = oauth.getValidatedIdTokenClaims(result)
  if (claims === undefined) throw new Error("the provider sent no ID token")
  saveSession(sessionFrom(result, claims.sub))
  return true
}

let refreshing: Promise<boolean> | undefined
/**
 * Trades the refresh token for a new access token (one at a time per tab). Answers false, and
 * signs the tab out, when there is nothing to refresh or the provider refuses.
 */
export const refreshSession = (): Promise<boolean> => {
  refreshing ??= (async () => {
    const session = currentSession()
    if (session?.kind !== "oidc" || session.refreshToken === undefined) return false
    const { oidc } = await signInConfig()
    if (oidc === null) return false
    const { as, client, options, extra } = await providerFor(oidc)
    try {
      const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), session.refreshToken, {
        ...options,
        additionalParameters: extra
      })
      const result = await oauth.processRefreshTokenResponse(as, client, response)
      saveSession(sessionFrom(result, session.userId, session))
      return true
    } catch (error) {
      // The grant is gone (revoked, expired): a new sign-in is needed.
      if (error instanceof oauth.ResponseBodyError) {
        clearSession()
        return false
      }
      throw error
    }
  })().finally(() => {
    refreshing = undefined
  })
  return refreshing
}

/** When the current access token should be refreshed: three quarters into its lifetime. */
export const refreshDueAt = (session: Session): number | undefined =>
  session.kind === "oidc" && session.refreshToken !== undefined
    ? session.obtainedAt + (session.expiresAt - session.obtainedAt) * 0.75
    : undefined

/**
 * Signs the tab out: revokes the refresh token at the provider (so it can't be used again), forgets
 * the session, then ends the provider's session at its end-session page when it has one (answers
 * true when the browser is being sent there).
 */
export const signOut = async (): Promise<boolean> => {
  const session = currentSession()
  clearSession()
  if (session?.kind !== "oidc") return false
  const { oidc } = await signInConfig()
  if (oidc === null) return false
  const { as, client, options } = await providerFor(oidc)
  if (session.refreshToken !== undefined && as.revocation_endpoint !== undefined) {
    const response = await oauth.revocationRequest(as, client, oauth.None(), session.refreshToken, options)
    await oauth.processRevocationResponse(response).catch(() => undefined)
  }
  if (as.end_session_endpoint === undefined) return false
  const url = new URL(as.end_session_endpoint)
  url.searchParams.set("client_id", oidc.clientId)
  url.searchParams.set("post_logout_redirect_uri", redirectUri())
  if (session.idToken !== undefined) url.searchParams.set("id_token_hint", session.idToken)
  location.assign(url.href)
  return true
}
