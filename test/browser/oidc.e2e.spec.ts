/**
 * Signing in to the web client through a real OpenID provider (oidc-provider, in this process):
 * authorization code with PKCE, the provider's login and consent forms filled in Chromium, the
 * server verifying the provider's JWT access tokens through JWKS, issuer and audience; the app
 * used with them; the access token refreshed before it expires (the old one is then refused and
 * the app keeps working); sign-out revokes the refresh token and ends the provider's session.
 */
import type { Browser, BrowserContext, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { desktop, launchChromium, type RunningSpaces, startSpaces } from "./harness.js"
import { API_RESOURCE, API_SCOPE, CLIENT_ID, type RunningProvider, startProvider } from "./oidcProvider.js"

/** Short enough that the test sees a refresh, long enough for a slow shared machine. */
const ACCESS_TOKEN_TTL = 20

const bearerOf = (headers: Record<string, string>) => headers.authorization?.replace(/^Bearer /, "")

describe("OpenID Connect sign-in in Chromium", () => {
  let provider: RunningProvider
  let spaces: RunningSpaces
  let browser: Browser
  let context: BrowserContext | undefined

  beforeAll(async () => {
    provider = await startProvider({ accessTokenTtlSeconds: ACCESS_TOKEN_TTL })
    spaces = await startSpaces({
      // A production run: no development sign-in, the provider's tokens only.
      NODE_ENV: "production",
      SPACES_DEV_AUTH_SERVICES: "",
      SPACES_MEDIA: "off",
      SPACES_RECORDING_URL_SECRET: "recording-url-secret-for-the-oidc-test-0123",
      SPACES_JWKS_URL: provider.jwksUrl,
      SPACES_JWT_ISSUER: provider.issuer,
      SPACES_JWT_AUDIENCE: API_RESOURCE,
      SPACES_OIDC_CLIENT_ID: CLIENT_ID,
      SPACES_OIDC_SCOPES: `openid ${API_SCOPE}`,
      SPACES_OIDC_RESOURCE: API_RESOURCE
    })
    provider.serve(spaces.url)
    browser = await launchChromium()
  })

  afterAll(async () => {
    await context?.close().catch(() => undefined)
    await browser?.close()
    await spaces?.close()
    await provider?.close()
  })

  const api = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${spaces.url}${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
      }
    })

  it("signs in at the provider, uses the app, refreshes the token and signs out", async () => {
    context = await browser.newContext({ viewport: desktop, baseURL: spaces.url })
    // The provider's pages import a web font: nothing leaves loopback.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort())
    const page: Page = await context.newPage()
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`))
    // A refused request (the provider's error pages included) makes a failure readable.
    page.on("response", (response) => {
      if (response.status() >= 400)
        void response.text().then(
          (body) => console.error(`${response.url()} → ${response.status()} ${body.slice(0, 2000)}`),
          () => undefined
        )
    })

    // The server says how to sign in, and serves no development sign-in in production.
    const config = (await (await api("/v1/auth/config", undefined)).json()) as Record<string, unknown>
    expect(config).toEqual({
      devSignIn: false,
      oidc: {
        issuer: provider.issuer,
        clientId: CLIENT_ID,
        scopes: `openid ${API_SCOPE}`,
        resource: API_RESOURCE
      }
    })
    expect(
      (await api("/v1/dev/token", undefined, { method: "POST", body: '{"user":"mallory"}' })).status
    ).toBe(404)

    // Sign in: the provider's login form, then its consent form.
    await page.goto("/")
    await expect(page.getByLabel("User name").count()).resolves.toBe(0)
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${provider.issuer}/auth?`))
    await page.getByRole("button", { name: `Continue with ${new URL(provider.issuer).host}` }).click()
    const authorization = new URL((await authorize).url())
    expect(authorization.searchParams.get("code_challenge_method")).toBe("S256")
    expect(authorization.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await page.locator('input[name="login"]').fill("ada")
    await page.locator('input[name="password"]').fill("any password")
    await page.getByRole("button", { name: "Sign-in" }).click()
    await page.getByRole("button", { name: "Continue" }).click()
    await page.getByRole("navigation", { name: "Account" }).getByText("Signed in as ada").waitFor()
    // The code left the address bar.
    expect(new URL(page.url()).search).toBe("")

    // Use the app: follow someone; the server verified the provider's token (JWKS, issuer, audience).
    const followed = page.waitForRequest(
      (r) => r.url().endsWith("/v1/me/following/hana") && r.method() === "PUT"
    )
    await page.getByLabel("User to follow").fill("hana")
    await page.getByRole("button", { name: "Follow", exact: true }).click()
    await page.getByText("You follow hana").waitFor()
    const firstToken = bearerOf((await followed).headers())
    expect(firstToken).toBeDefined()
    const [, payload] = firstToken!.split(".")
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      iss: provider.issuer,
      aud: API_RESOURCE,
      sub: "ada"
    })

    // Refresh: the page trades its refresh token before the access token runs out.
    const refreshed = await page.waitForResponse(
      (r) =>
        r.url() === provider.tokenEndpoint &&
        (r.request().postData() ?? "").includes("grant_type=refresh_token"),
      { timeout: (ACCESS_TOKEN_TTL + 30) * 1000 }
    )
    expect(refreshed.status()).toBe(200)
    const secondToken = ((await refreshed.json()) as { access_token: string }).access_token
    expect(secondToken).not.toBe(firstToken)

    // Once the first token has expired the server refuses it, and the page works on with the new one.
    const exp = (JSON.parse(Buffer.from(payload!, "base64url").toString()) as { exp: number }).exp
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now() + 1500)))
    expect((await api("/v1/feed", firstToken)).status).toBe(401)
    const followedAgain = page.waitForRequest(
      (r) => r.url().endsWith("/v1/me/following/lin") && r.method() === "PUT"
    )
    await page.getByLabel("User to follow").fill("lin")
    await page.getByRole("button", { name: "Follow", exact: true }).click()
    await page.getByText("You follow lin").waitFor()
    const usedToken = bearerOf((await followedAgain).headers())
    expect(usedToken).not.toBe(firstToken)
    expect((await api("/v1/feed", usedToken)).status).toBe(200)

    // Sign out: the refresh token is revoked, the provider's session ends, the page is signed out.
    // (A string: the tests compile without the DOM library.)
    const refreshToken = await page.evaluate<string | undefined>(
      `JSON.parse(sessionStorage.getItem("spaces.session") ?? "{}").refreshToken`
    )
    expect(refreshToken).toBeDefined()
    const revoked = page.waitForResponse((r) => r.url() === `${provider.issuer}/token/revocation`)
    await page.getByRole("button", { name: "Sign out" }).click()
    expect((await revoked).status()).toBe(200)
    await page.getByRole("button", { name: "Yes, sign me out" }).click()
    await page.getByRole("heading", { name: "Sign in to Spaces" }).waitFor()
    await expect(
      page.getByRole("navigation", { name: "Account" }).getByText("Signed in as ada").count()
    ).resolves.toBe(0)
    const reuse = await fetch(provider.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken!,
        client_id: CLIENT_ID
      })
    })
    expect(reuse.status).toBe(400)
    expect(await reuse.json()).toMatchObject({ error: "invalid_grant" })

    // Signing in again needs the provider's login form again (its session ended).
    await page.getByRole("button", { name: `Continue with ${new URL(provider.issuer).host}` }).click()
    await page.locator('input[name="login"]').waitFor()
  })
})
