import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fullRoom, host, outsider, post, space } from "../../testing/fixtures.js"
import { given, T0 } from "../../testing/SpaceSpecification.js"
import { checkText, type TextRule } from "../text.js"

const title = { maxLength: 70, multiline: false }
const postText = { maxLength: 280, multiline: true }
const ruleOf = (text: string, options = title): TextRule | "ok" =>
  Either.match(checkText(text, options), { onLeft: (rule) => rule, onRight: () => "ok" as const })

const BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
const INVISIBLE = [
  "\u200b",
  "\u200c",
  "\u200d",
  "\u2060",
  "\ufeff",
  "\u00ad",
  "\u3164",
  "\u2800",
  " ",
  "\u00a0"
]
/** Visible text: letters (any script), digits, punctuation, emoji; spaces between. */
const visible = fc
  .array(fc.constantFrom("a", "Z", "é", "ß", "д", "中", "ع", "7", "!", "🎷", "👩‍💻", "e\u0301"), {
    minLength: 1,
    maxLength: 20
  })
  .map((chars) => chars.join(""))

describe("text a reader can see (titles and posts)", () => {
  it("refuses the probe's examples, naming the rule", () => {
    expect(ruleOf("\u200B")).toBe("invisible-only")
    expect(ruleOf("abc\u202Etxt.exe")).toBe("bidi-control")
    expect(ruleOf("a\ud800b")).toBe("lone-surrogate")
    expect(ruleOf("hi\u0000\u001b[31m", postText)).toBe("control-character")
    expect(ruleOf("hi\u0000\u001b[31m")).toBe("control-character")
  })

  it("normalises to NFC and trims", () => {
    expect(checkText("  Cafe\u0301  ", title)).toEqual(Either.right("Caf\u00e9"))
    // A post keeps its line breaks and tabs; a title does not.
    expect(checkText("line 1\nline 2\tend", postText)).toEqual(Either.right("line 1\nline 2\tend"))
    expect(ruleOf("line 1\nline 2")).toBe("control-character")
  })

  it("accepts visible text, as NFC, and the result passes again unchanged", () =>
    fc.assert(
      fc.property(visible, (text) => {
        const checked = checkText(text, postText)
        expect(Either.isRight(checked)).toBe(true)
        const stored = Either.getOrThrow(checked)
        expect(stored).toBe(stored.normalize("NFC"))
        expect(checkText(stored, postText)).toEqual(Either.right(stored))
      })
    ))

  it("refuses any bidi override or isolate anywhere in visible text", () =>
    fc.assert(
      fc.property(visible, fc.constantFrom(...BIDI), fc.nat(), (text, bidi, at) => {
        const points = [...text]
        const i = at % (points.length + 1)
        const tampered = [...points.slice(0, i), bidi, ...points.slice(i)].join("")
        expect(ruleOf(tampered, postText)).toBe("bidi-control")
      })
    ))

  it("refuses text of invisible characters only", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...INVISIBLE), { minLength: 1, maxLength: 10 }), (chars) => {
        expect(["invisible-only", "empty"]).toContain(ruleOf(chars.join("")))
      })
    ))

  it("refuses a lone surrogate anywhere, keeps a paired one", () =>
    fc.assert(
      fc.property(visible, fc.integer({ min: 0xd800, max: 0xdfff }), fc.nat(), (text, unit, at) => {
        // Between two code points, never inside a pair.
        const points = [...text]
        const i = at % (points.length + 1)
        const broken = [...points.slice(0, i), String.fromCharCode(unit), ...points.slice(i)].join("")
        expect(ruleOf(broken, postText)).toBe("lone-surrogate")
      })
    ))

  it("the decider refuses such titles and posts with the rule named, and stores NFC", () => {
    const create = (t: string) => ({
      _tag: "CreateSpace" as const,
      spaceId: space,
      by: host,
      title: t,
      topics: [],
      speakPolicy: "everyone" as const,
      recording: false,
      captions: false
    })
    given([]).when(create("abc\u202Etxt.exe")).rejects("InvalidTitle", { rule: "bidi-control" })
    given([]).when(create("\u200B")).rejects("InvalidTitle", { rule: "invisible-only" })
    given([]).when(create("a\ud800b")).rejects("InvalidTitle", { rule: "lone-surrogate" })
    const [createdEvent] = given([]).when(create("Cafe\u0301")).accepts()
    expect(createdEvent).toMatchObject({ _tag: "SpaceCreated", title: "Caf\u00e9" })
    given(fullRoom())
      .when({
        _tag: "PublishPost",
        spaceId: space,
        by: outsider,
        postId: post("p1"),
        text: "hi\u0000\u001b[31m"
      })
      .rejects("InvalidPost", { rule: "control-character" })
    given(fullRoom())
      .when({ _tag: "PublishPost", spaceId: space, by: outsider, postId: post("p1"), text: "\u2066\u2069" })
      .rejects("InvalidPost", { rule: "bidi-control" })
    expect(T0).toBeGreaterThan(0)
  })
})
