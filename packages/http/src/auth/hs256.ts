import { createHmac, timingSafeEqual } from "node:crypto"
import {
  type JWTClaimVerificationOptions,
  type JWTPayload,
  type ProtectedHeaderParameters,
  UnsecuredJWT
} from "jose"

/** `{"alg":"none"}`: the header under which jose checks the claims of a token whose signature we checked. */
const NONE_HEADER = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")
const BASE64URL = /^[A-Za-z0-9_-]+$/

/**
 * An HS256 token's payload once its signature and claims hold. The signature is checked with
 * node's HMAC, synchronously: WebCrypto's (jose's `jwtVerify`) runs as an async job that costs the
 * main thread about 0.2 ms per token, and a crowd joining a Space brings a new token per person.
 * The claims are then checked by jose exactly as `jwtVerify` checks them (`UnsecuredJWT.decode`
 * runs the same claim checks, given the same options, on the same payload).
 */
export const verifyHs256 = (
  token: string,
  header: ProtectedHeaderParameters,
  secret: Uint8Array,
  options: JWTClaimVerificationOptions
): JWTPayload => {
  const parts = token.split(".")
  const [encodedHeader, encodedPayload, signature] = parts
  if (
    parts.length !== 3 ||
    encodedHeader === undefined ||
    encodedPayload === undefined ||
    signature === undefined
  )
    throw new Error("Invalid Compact JWS")
  // jose accepts no critical extension here but `b64`, which JWTs may not use: refuse any.
  if (header.crit !== undefined) throw new Error('"crit" header parameter is not supported')
  if (!BASE64URL.test(signature)) throw new Error("signature verification failed")
  const expected = createHmac("sha256", secret).update(`${encodedHeader}.${encodedPayload}`).digest()
  const given = Buffer.from(signature, "base64url")
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new Error("signature verification failed")
  return UnsecuredJWT.decode(`${NONE_HEADER}.${encodedPayload}.`, options).payload
}
