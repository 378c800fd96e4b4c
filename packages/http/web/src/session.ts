/**
 * Who is signed in, per browser tab: a development token from the server, or the tokens of the
 * OpenID provider (access token, refresh token, ID token for signing out).
 */

export type Session =
  | { readonly kind: "dev"; readonly userId: string; readonly token: string }
  | {
      readonly kind: "oidc"
      readonly userId: string
      readonly token: string
      /** When the access token expires and when it was obtained (ms since the epoch). */
      readonly expiresAt: number
      readonly obtainedAt: number
      readonly refreshToken: string | undefined
      readonly idToken: string | undefined
    }

const key = "spaces.session"

const text = (value: unknown): value is string => typeof value === "string" && value !== ""
const optionalText = (value: unknown): string | undefined => (text(value) ? value : undefined)

export const currentSession = (): Session | null => {
  const raw = sessionStorage.getItem(key)
  if (raw === null) return null
  try {
    const parsed: unknown = JSON.parse(raw)
    if (typeof parsed !== "object" || parsed === null) return null
    const s = parsed as Record<string, unknown>
    if (!text(s.userId) || !text(s.token)) return null
    if (s.kind === "oidc" && typeof s.expiresAt === "number" && typeof s.obtainedAt === "number")
      return {
        kind: "oidc",
        userId: s.userId,
        token: s.token,
        expiresAt: s.expiresAt,
        obtainedAt: s.obtainedAt,
        refreshToken: optionalText(s.refreshToken),
        idToken: optionalText(s.idToken)
      }
    if (s.kind === undefined || s.kind === "dev") return { kind: "dev", userId: s.userId, token: s.token }
  } catch {
    // A corrupt entry is the same as none.
  }
  return null
}

export const saveSession = (session: Session): void => sessionStorage.setItem(key, JSON.stringify(session))
export const clearSession = (): void => sessionStorage.removeItem(key)
