import { ServiceId, UserId } from "@spaces/domain"
import { Either, Schema } from "effect"
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
  type ProtectedHeaderParameters,
  SignJWT
} from "jose"
import type { AuthConfig } from "../config.js"
import { HttpProblem, problems } from "../problems.js"
import { verifyHs256 } from "./hs256.js"

/** Who is calling: a user (every product command) or a service (the transcription adapter). */
export type Principal =
  | { readonly kind: "user"; readonly userId: UserId }
  | { readonly kind: "service"; readonly serviceId: ServiceId; readonly scopes: ReadonlyArray<string> }

/** The scope a service token needs to append caption segments. */
export const CAPTIONS_SCOPE = "captions:append"
/** The scope a service token needs to receive a Space's audio (`POST /v1/spaces/:spaceId/media/taps`). */
export const MEDIA_TAP_SCOPE = "media:tap"
/** The scope of an operator identity: may end any Space (`POST /v1/operator/spaces/:spaceId/end`). */
export const OPERATOR_SCOPE = "spaces:operate"

export interface Tokens {
  readonly verify: (token: string) => Promise<Principal>
  /** The principal of a token `verify` accepted and that has not expired yet; else undefined. */
  readonly verified: (token: string) => Principal | undefined
  /** Signs a token (HS256 only): development tokens and tests. */
  readonly issue: (principal: Principal) => Promise<string>
}

/** Verified tokens kept (the oldest go first). */
const VERIFIED_MAX = 10_000

const decodeUser = Schema.decodeUnknownEither(UserId)
const decodeService = Schema.decodeUnknownEither(ServiceId)

/** Token claims: `sub` is the user; a `svc` claim makes it a service identity (with `scope`). */
const principalOf = (payload: JWTPayload): Principal => {
  if (payload.svc !== undefined) {
    const service = decodeService(payload.svc)
    if (Either.isLeft(service)) throw problems.unauthorized("the token's svc claim is not a service id")
    const scopes = typeof payload.scope === "string" ? payload.scope.split(" ").filter((s) => s !== "") : []
    return { kind: "service", serviceId: service.right, scopes }
  }
  const user = decodeUser(payload.sub)
  if (Either.isLeft(user)) throw problems.unauthorized("the token's sub claim is not a user id")
  return { kind: "user", userId: user.right }
}

/** Clock difference tolerated between this server and the identity provider (seconds). */
const CLOCK_SKEW_SECONDS = 60

/**
 * Every token must expire, and not too far away: `exp` − `iat` (when the token says when it was
 * issued) and `exp` − now may not exceed the configured maximum lifetime.
 */
const checkLifetime = (payload: JWTPayload, maxSeconds: number) => {
  const exp = payload.exp
  if (exp === undefined) throw problems.unauthorized("the bearer token has no exp claim: tokens must expire")
  if (payload.iat !== undefined && exp - payload.iat > maxSeconds)
    throw problems.unauthorized(
      `the bearer token's lifetime (${exp - payload.iat} s) exceeds the maximum of ${maxSeconds} s`
    )
  const left = exp - Math.floor(Date.now() / 1000)
  if (left > maxSeconds + CLOCK_SKEW_SECONDS)
    throw problems.unauthorized(
      `the bearer token expires in ${left} s, beyond the maximum lifetime of ${maxSeconds} s`
    )
}

export const makeTokens = (config: AuthConfig): Tokens => {
  const jwks = config.jwksUrl === undefined ? undefined : createRemoteJWKSet(config.jwksUrl)
  const options = {
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    requiredClaims: ["exp"]
  }

  /**
   * HS256 tokens already verified, by token: a client sends the same token with every request, and
   * the signature check is most of an authenticated request's cost. A hit is trusted only until the
   * token's `exp`: the secret, issuer and audience are fixed per process and nothing revokes an
   * HS256 token before it expires, so a later check could only answer the same.
   */
  const verified = new Map<string, { readonly principal: Principal; readonly until: number }>()

  const known = (token: string): Principal | undefined => {
    const hit = verified.get(token)
    if (hit === undefined) return undefined
    if (Date.now() < hit.until) return hit.principal
    verified.delete(token)
    return undefined
  }

  const verify = async (token: string): Promise<Principal> => {
    const hit = known(token)
    if (hit !== undefined) return hit
    let header: ProtectedHeaderParameters
    try {
      header = decodeProtectedHeader(token)
    } catch {
      throw problems.unauthorized("the bearer token is not a JWT")
    }
    try {
      // HS256 tokens are checked with the shared secret, others with the identity provider's keys.
      const alg = header.alg
      if (alg === "HS256" && config.secret !== undefined) {
        const payload = verifyHs256(token, header, config.secret, options)
        checkLifetime(payload, config.maxTokenLifetimeSeconds)
        const principal = principalOf(payload)
        // jose refuses a token once the clock (in whole seconds) reaches `exp`.
        const until = (payload.exp ?? 0) * 1000
        if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!)
        verified.set(token, { principal, until })
        return principal
      }
      const { payload } =
        jwks !== undefined
          ? await jwtVerify(token, jwks, { ...options, algorithms: ["RS256", "ES256", "EdDSA", "PS256"] })
          : await Promise.reject(new Error(`tokens signed with ${alg ?? "no algorithm"} are not accepted`))
      checkLifetime(payload, config.maxTokenLifetimeSeconds)
      return principalOf(payload)
    } catch (error) {
      if (error instanceof HttpProblem) throw error
      throw problems.unauthorized(
        `the bearer token is not valid: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  }

  const issue = async (principal: Principal): Promise<string> => {
    if (config.secret === undefined) throw new Error("no HS256 secret configured: cannot issue tokens")
    const claims =
      principal.kind === "service" ? { svc: principal.serviceId, scope: principal.scopes.join(" ") } : {}
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(principal.kind === "user" ? principal.userId : principal.serviceId)
      .setIssuedAt()
      .setExpirationTime(`${config.tokenTtlSeconds}s`)
    if (config.issuer !== undefined) jwt = jwt.setIssuer(config.issuer)
    if (config.audience !== undefined) jwt = jwt.setAudience(config.audience)
    return jwt.sign(config.secret)
  }

  return { verify, verified: known, issue }
}
