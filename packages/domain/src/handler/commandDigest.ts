/**
 * A command's fingerprint, stored with the events it caused, so that a retry under the same
 * idempotency key can be told apart from a different command reusing the key.
 *
 * FNV-1a (64-bit) over the UTF-8 bytes of the command's canonical JSON (object keys sorted,
 * absent members omitted). The algorithm is written out here rather than borrowed from a
 * library's in-memory hash (`Hash.string`): digests are persisted, so they must never change with
 * a dependency's version. Not cryptographic, and need not be: it tells a client's honest mistake
 * apart from a retry, among the commands of one stream under one key.
 */
export const commandDigest = (command: unknown): string => `fnv1a64:${fnv1a64(canonicalJson(command))}`

/** JSON with every object's keys in sorted order: equal data gives equal text. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v
  )

/**
 * FNV-1a, 64-bit, of the text's UTF-8 encoding, as 16 hex digits. The 64-bit state is kept as two
 * 32-bit halves (BigInt is ~10x slower): prime = 2^40 + 0x1b3, so `h * prime` is `h * 0x1b3` plus
 * `h << 40`, and every partial product stays below 2^53.
 */
export const fnv1a64 = (text: string): string => {
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  const feed = (byte: number) => {
    const x = (lo ^ byte) >>> 0
    const low = x * 0x1b3
    hi = (hi * 0x1b3 + ((x << 8) >>> 0) + Math.floor(low / 0x1_0000_0000)) >>> 0
    lo = low >>> 0
  }
  // UTF-8 by hand: the domain has no `TextEncoder` (it targets plain ES: no DOM, no Node).
  for (const char of text) {
    const cp = char.codePointAt(0)!
    if (cp < 0x80) feed(cp)
    else if (cp < 0x800) {
      feed(0xc0 | (cp >> 6))
      feed(0x80 | (cp & 0x3f))
    } else if (cp < 0x10000) {
      feed(0xe0 | (cp >> 12))
      feed(0x80 | ((cp >> 6) & 0x3f))
      feed(0x80 | (cp & 0x3f))
    } else {
      feed(0xf0 | (cp >> 18))
      feed(0x80 | ((cp >> 12) & 0x3f))
      feed(0x80 | ((cp >> 6) & 0x3f))
      feed(0x80 | (cp & 0x3f))
    }
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0")
}
