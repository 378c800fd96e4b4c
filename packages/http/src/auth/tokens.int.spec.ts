import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadConfig } from "../config.js"
import { HttpProblem } from "../problems.js"
import { makeTokens } from "./tokens.js"

const SECRET = "token-test-secret-token-test-secret-0123"
const now = () => Math.floor(Date.now() / 1000)

/** Resolves to the problem's status and detail, or "accepted" with the principal. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (principal) => ({ accepted: principal }),
    (error: unknown) => {
      if (error instanceof HttpProblem) return { status: error.status, detail: error.message }
      throw error
    }
  )

const hs256 = (claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET))

describe("HS256 tokens", () => {
  const tokens = makeTokens(
    loadConfig({ SPACES_JWT_SECRET: SECRET, SPACES_TOKEN_MAX_LIFETIME_SECONDS: "3600" }).auth
  )

  it("are refused without exp (they would be valid for ever)", async () => {
    expect(await outcome(tokens.verify(await hs256({ sub: "ada" })))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/exp/)
    })
    expect(await outcome(tokens.verify(await hs256({ sub: "ada", iat: now() })))).toMatchObject({
      status: 401
    })
  })

  it("are refused when their lifetime exceeds the maximum", async () => {
    const longLived = await hs256({ sub: "ada", iat: now(), exp: now() + 7200 })
    expect(await outcome(tokens.verify(longLived))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/lifetime/)
    })
    // Without iat, the time left counts.
    const noIat = await hs256({ sub: "ada", exp: now() + 7200 })
    expect(await outcome(tokens.verify(noIat))).toMatchObject({ status: 401 })
  })

  it("are accepted within the lifetime, and the server's own tokens are", async () => {
    expect(await outcome(tokens.verify(await hs256({ sub: "ada", iat: now(), exp: now() + 3600 })))).toEqual({
      accepted: { kind: "user", userId: "ada" }
    })
    expect(await outcome(tokens.verify(await hs256({ sub: "bo", exp: now() + 600 })))).toEqual({
      accepted: { kind: "user", userId: "bo" }
    })
    const issued = await tokens.issue({ kind: "user", userId: "cy" as never })
    expect(await outcome(tokens.verify(issued))).toEqual({ accepted: { kind: "user", userId: "cy" } })
  })
})

describe("HS256 signatures and claims", () => {
  const tokens = makeTokens(
    loadConfig({
      SPACES_JWT_SECRET: SECRET,
      SPACES_JWT_ISSUER: "https://spaces.test",
      SPACES_JWT_AUDIENCE: "spaces-api"
    }).auth
  )
  const claims = { sub: "ada", iss: "https://spaces.test", aud: "spaces-api", exp: now() + 600 }
  const refused = (token: string) => outcome(tokens.verify(token)).then((o) => ("status" in o ? o.status : o))

  it("accepts a well-signed token and refuses one whose payload or signature was changed", async () => {
    const token = await hs256(claims)
    expect(await outcome(tokens.verify(token))).toEqual({ accepted: { kind: "user", userId: "ada" } })
    const [header, , signature] = token.split(".")
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "root" })).toString("base64url")
    expect(await refused(`${header}.${forged}.${signature}`)).toBe(401)
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`
    expect(await refused(`${header}.${token.split(".")[1]}.${flipped}`)).toBe(401)
    expect(await refused(`${header}.${token.split(".")[1]}.`)).toBe(401)
    expect(await refused(`${token}.extra`)).toBe(401)
  })

  it("refuses a token signed with another secret, an unsigned one and a critical extension", async () => {
    const other = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("another-secret-another-secret-another-0"))
    expect(await refused(other)).toBe(401)
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${other.split(".")[1]}.`
    expect(await refused(none)).toBe(401)
    const crit = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", crit: ["exp"], exp: 1 } as never)
      .sign(new TextEncoder().encode(SECRET))
      .catch(() => undefined)
    if (crit !== undefined) expect(await refused(crit)).toBe(401)
  })

  it("checks issuer, audience, expiry and not-before as jose does", async () => {
    expect(await refused(await hs256({ ...claims, iss: "https://elsewhere.test" }))).toBe(401)
    expect(await refused(await hs256({ ...claims, aud: "another-api" }))).toBe(401)
    expect(await outcome(tokens.verify(await hs256({ ...claims, exp: now() - 5 })))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/"exp" claim timestamp check failed/)
    })
    expect(await refused(await hs256({ ...claims, nbf: now() + 120 }))).toBe(401)
  })
})

describe("tokens of an identity provider (JWKS)", () => {
  let server: Server
  let jwksUrl: string
  let sign: (claims: JWTPayload) => Promise<string>
  const issuer = "https://id.example.test"

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256")
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "k1" }).sign(privateKey)
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json")
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const tokensFor = (env: Record<string, string>) =>
    makeTokens(loadConfig({ SPACES_JWKS_URL: jwksUrl, SPACES_JWT_ISSUER: issuer, ...env }).auth)

  it("are refused without exp", async () => {
    const tokens = tokensFor({ SPACES_JWT_AUDIENCE: "spaces-api" })
    const token = await sign({ sub: "ada", iss: issuer, aud: "spaces-api", iat: now() })
    expect(await outcome(tokens.verify(token))).toMatchObject({
      status: 401,
      detail: expect.stringMatching(/exp/)
    })
  })

  it("are checked for issuer, audience and lifetime", async () => {
    const tokens = tokensFor({ SPACES_JWT_AUDIENCE: "spaces-api", SPACES_TOKEN_MAX_LIFETIME_SECONDS: "900" })
    const good = { sub: "ada", iss: issuer, aud: "spaces-api", iat: now(), exp: now() + 300 }
    expect(await outcome(tokens.verify(await sign(good)))).toEqual({
      accepted: { kind: "user", userId: "ada" }
    })
    for (const bad of [
      { ...good, aud: "another-client" },
      { ...good, iss: "https://elsewhere.test" },
      { ...good, exp: now() + 3600 }
    ])
      expect(await outcome(tokens.verify(await sign(bad)))).toMatchObject({ status: 401 })
  })
})
