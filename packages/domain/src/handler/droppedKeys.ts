/** Bits in the filter: 2^25, 4 MiB. */
const BITS_LOG2 = 25
const HASHES = 7

/** FNV-1a over the string's UTF-16 code units, from `seed`. */
const fnv1a = (text: string, seed: number): number => {
  let hash = seed
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * The idempotency keys dropped from memory, as a Bloom filter of fixed size (4 MiB): "no" is
 * certain, "maybe" is wrong about once in 100,000 answers at a million keys (and more often past
 * several million, where it degrades towards "maybe" for all). A "no" spares the caller a read of
 * the stream for a key that is not in its older part; a "maybe" costs that read, nothing else.
 */
export const makeDroppedKeys = () => {
  const mask = (1 << BITS_LOG2) - 1
  let words: Uint32Array | undefined
  const positions = (stream: string, key: string, visit: (bit: number) => boolean): boolean => {
    const text = `${stream}\u0000${key}`
    const first = fnv1a(text, 0x811c9dc5)
    // Odd, so that the probes cycle through distinct bits.
    const step = fnv1a(text, 0x9747b28c) | 1
    for (let i = 0; i < HASHES; i++) if (!visit((first + Math.imul(i, step)) & mask)) return false
    return true
  }
  return {
    add: (stream: string, key: string) => {
      // Allocated with the first dropped key: a handler that never drops one pays nothing.
      if (words === undefined) words = new Uint32Array((mask + 1) >>> 5)
      const bits = words
      positions(stream, key, (bit) => {
        bits[bit >>> 5]! |= 1 << (bit & 31)
        return true
      })
    },
    /** False: `key` was never dropped for `stream`. True: it may have been. */
    mayHave: (stream: string, key: string): boolean => {
      const bits = words
      if (bits === undefined) return false
      return positions(stream, key, (bit) => (bits[bit >>> 5]! & (1 << (bit & 31))) !== 0)
    }
  }
}
