import { describe, expect, it } from "vitest"
import { canonicalJson, commandDigest, fnv1a64 } from "./commandDigest.js"

describe("command digests", () => {
  it("are FNV-1a 64 over UTF-8 (the published test vectors)", () => {
    expect(fnv1a64("")).toBe("cbf29ce484222325")
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c")
    expect(fnv1a64("foobar")).toBe("85944171f73967e8")
    // Two-, three- and four-byte UTF-8 sequences (checked against a byte-wise reference).
    expect(fnv1a64("é€😀")).toBe("0a289ca40199fa06")
  })

  it("ignore the order of members but not their values, and skip absent ones", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}')
    const join = { _tag: "JoinSpace", spaceId: "a", by: "lee" }
    expect(commandDigest(join)).toBe(commandDigest({ by: "lee", spaceId: "a", _tag: "JoinSpace" }))
    expect(commandDigest(join)).toBe(commandDigest({ ...join, title: undefined }))
    expect(commandDigest(join)).not.toBe(commandDigest({ ...join, by: "olga" }))
    expect(commandDigest(join)).not.toBe(commandDigest({ ...join, _tag: "LeaveSpace" }))
    expect(commandDigest(join)).toMatch(/^fnv1a64:[0-9a-f]{16}$/)
  })
})
