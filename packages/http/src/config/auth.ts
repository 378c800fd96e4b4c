import { randomBytes } from "node:crypto"
import type { Env } from "./env.js"
import {
  type AuthConfig,
  ConfigInvalid,
  type OidcClientConfig,
  type RecordingUrlConfig,
  type RunMode
} from "./types.js"

const oidcFrom = (env: Env): OidcClientConfig | undefined => {
  if (env.SPACES_OIDC_CLIENT_ID === undefined) {
    if (env.SPACES_OIDC_ISSUER !== undefined)
      throw new ConfigInvalid("SPACES_OIDC_CLIENT_ID is required with SPACES_OIDC_ISSUER")
    return undefined
  }
  const issuer = env.SPACES_OIDC_ISSUER ?? env.SPACES_JWT_ISSUER
  if (issuer === undefined || !/^https?:\/\/\S+$/.test(issuer))
    throw new ConfigInvalid(
      "SPACES_OIDC_CLIENT_ID needs the issuer's URL: set SPACES_OIDC_ISSUER (or an http(s) SPACES_JWT_ISSUER)"
    )
  // The web client talks to a plain-http provider only on this machine (a development provider).
  const { protocol, hostname } = new URL(issuer)
  if (protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(hostname))
    throw new ConfigInvalid(
      `the OpenID issuer ${issuer} is plain http on another host: the web client signs in over https only (or http on localhost)`
    )
  if (env.SPACES_JWKS_URL === undefined)
    throw new ConfigInvalid(
      "SPACES_OIDC_CLIENT_ID needs SPACES_JWKS_URL: the server verifies the provider's tokens"
    )
  return {
    issuer,
    clientId: env.SPACES_OIDC_CLIENT_ID,
    scopes: env.SPACES_OIDC_SCOPES,
    resource: env.SPACES_OIDC_RESOURCE
  }
}

export const authFrom = (env: Env, mode: RunMode): AuthConfig => {
  const production = mode === "production"
  const jwksUrl = env.SPACES_JWKS_URL === undefined ? undefined : new URL(env.SPACES_JWKS_URL)
  if (production && env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined)
    throw new ConfigInvalid(
      `SPACES_JWT_SECRET or SPACES_JWKS_URL is required in production (NODE_ENV=${env.NODE_ENV})`
    )
  // The issuer pins the tokens to the one provider those keys belong to.
  if (production && jwksUrl !== undefined && env.SPACES_JWT_ISSUER === undefined)
    throw new ConfigInvalid("SPACES_JWT_ISSUER is required with SPACES_JWKS_URL in production")
  // Without an audience any token the identity provider issues (for any of its clients) would do.
  if (
    production &&
    jwksUrl !== undefined &&
    env.SPACES_JWT_AUDIENCE === undefined &&
    !env.SPACES_JWT_ANY_AUDIENCE
  )
    throw new ConfigInvalid(
      "SPACES_JWT_AUDIENCE is required with SPACES_JWKS_URL in production (or SPACES_JWT_ANY_AUDIENCE=true to accept any audience)"
    )
  if (env.SPACES_JWT_AUDIENCE !== undefined && env.SPACES_JWT_ANY_AUDIENCE)
    throw new ConfigInvalid("SPACES_JWT_ANY_AUDIENCE=true contradicts SPACES_JWT_AUDIENCE: set one of them")
  // Development sign-in mints any identity: never in production, opt-in unless this is a
  // development run, and in a development run on by default only with the generated secret.
  if (production && (env.SPACES_DEV_AUTH === true || env.SPACES_DEV_AUTH_SERVICES))
    throw new ConfigInvalid(
      `${env.SPACES_DEV_AUTH === true ? "SPACES_DEV_AUTH" : "SPACES_DEV_AUTH_SERVICES"}=true is refused in production (NODE_ENV=${env.NODE_ENV}): development sign-in issues tokens for anyone`
    )
  // Development default: a random per-process secret, so `start` works with no setup at all.
  const generated = env.SPACES_JWT_SECRET === undefined && jwksUrl === undefined
  const secret =
    env.SPACES_JWT_SECRET !== undefined
      ? new TextEncoder().encode(env.SPACES_JWT_SECRET)
      : generated
        ? new Uint8Array(randomBytes(32))
        : undefined
  const devAuth = env.SPACES_DEV_AUTH ?? (mode === "development" && generated)
  if (devAuth && secret === undefined)
    throw new ConfigInvalid("SPACES_DEV_AUTH=true needs SPACES_JWT_SECRET (development tokens are HS256)")
  if (env.SPACES_DEV_AUTH_SERVICES && !devAuth)
    throw new ConfigInvalid("SPACES_DEV_AUTH_SERVICES=true needs development sign-in on (SPACES_DEV_AUTH)")
  const maxLifetime = env.SPACES_TOKEN_MAX_LIFETIME_SECONDS
  const ttl = env.SPACES_TOKEN_TTL_SECONDS ?? Math.min(86_400, maxLifetime)
  if (ttl > maxLifetime)
    throw new ConfigInvalid(
      `SPACES_TOKEN_TTL_SECONDS (${ttl}) is above SPACES_TOKEN_MAX_LIFETIME_SECONDS (${maxLifetime}): the server would refuse its own tokens`
    )
  return {
    secret,
    generatedSecret: generated,
    jwksUrl,
    issuer: env.SPACES_JWT_ISSUER,
    audience: env.SPACES_JWT_AUDIENCE,
    anyAudience: env.SPACES_JWT_ANY_AUDIENCE,
    devTokens: devAuth,
    devServiceTokens: env.SPACES_DEV_AUTH_SERVICES,
    tokenTtlSeconds: ttl,
    maxTokenLifetimeSeconds: maxLifetime,
    oidc: oidcFrom(env)
  }
}

/**
 * The recording URL key: its own variable, else the HS256 token secret (both shared by every node).
 * Without either (JWKS-only, or development's random token secret) it is random per process, which
 * production refuses: a URL signed by one node would be refused by the others and after a restart.
 */
export const recordingUrlsFrom = (env: Env, production: boolean): RecordingUrlConfig => {
  const configured = env.SPACES_RECORDING_URL_SECRET ?? env.SPACES_JWT_SECRET
  if (configured !== undefined)
    return { secret: new TextEncoder().encode(configured), generatedSecret: false }
  if (production)
    throw new ConfigInvalid(
      "SPACES_RECORDING_URL_SECRET is required in production (NODE_ENV other than development/test) without SPACES_JWT_SECRET (it signs recording URLs on every node)"
    )
  return { secret: new Uint8Array(randomBytes(32)), generatedSecret: true }
}
