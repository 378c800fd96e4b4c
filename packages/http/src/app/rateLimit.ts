/**
 * Token buckets, one per caller (user id, or IP address before authentication): `burst` requests
 * at once, refilled at `perSecond`. Idle buckets are swept so the map stays bounded.
 */
export interface RateLimiter {
  /** 0 when allowed (a token is taken), otherwise the seconds to wait. */
  readonly take: (key: string) => number
  /** The seconds to wait before `take` would allow (0 when it would), taking nothing. */
  readonly peek: (key: string) => number
  /** No caller has a bucket: `peek` is 0 for every key. */
  readonly empty: () => boolean
}

export const makeRateLimiter = (
  options: { readonly perSecond: number; readonly burst: number },
  now: () => number = () => performance.now()
): RateLimiter => {
  const buckets = new Map<string, { tokens: number; at: number }>()
  let sweptAt = now()
  const sweep = (t: number) => {
    // A bucket idle long enough to be full again is the same as no bucket.
    const full = (options.burst / options.perSecond) * 1000
    for (const [key, bucket] of buckets) if (t - bucket.at > full) buckets.delete(key)
    sweptAt = t
  }
  const tokensOf = (key: string, t: number) => {
    const bucket = buckets.get(key)
    if (bucket === undefined) return options.burst
    return Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.perSecond)
  }
  const waitFor = (tokens: number) => Math.max(1, Math.ceil((1 - tokens) / options.perSecond))
  return {
    take: (key) => {
      const t = now()
      if (t - sweptAt > 60_000) sweep(t)
      const tokens = tokensOf(key, t)
      let bucket = buckets.get(key)
      if (bucket === undefined) {
        bucket = { tokens, at: t }
        buckets.set(key, bucket)
      } else {
        bucket.tokens = tokens
        bucket.at = t
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return waitFor(bucket.tokens)
    },
    peek: (key) => {
      const tokens = tokensOf(key, now())
      return tokens >= 1 ? 0 : waitFor(tokens)
    },
    empty: () => buckets.size === 0
  }
}
