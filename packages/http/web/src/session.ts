/** Who is signed in, per browser tab (development sign-in: the server's dev token). */

export interface Session {
  readonly userId: string
  readonly token: string
}

const key = "spaces.session"

export const currentSession = (): Session | null => {
  const raw = sessionStorage.getItem(key)
  if (raw === null) return null
  try {
    const parsed: unknown = JSON.parse(raw)
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "userId" in parsed &&
      "token" in parsed &&
      typeof parsed.userId === "string" &&
      typeof parsed.token === "string"
    )
      return { userId: parsed.userId, token: parsed.token }
  } catch {
    // A corrupt entry is the same as none.
  }
  return null
}

export const saveSession = (session: Session): void => sessionStorage.setItem(key, JSON.stringify(session))
export const clearSession = (): void => sessionStorage.removeItem(key)
