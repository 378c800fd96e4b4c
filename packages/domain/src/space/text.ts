import { Either, Schema } from "effect"

/**
 * What a reader must be able to see in a title or a post. Text is normalised to NFC and trimmed;
 * then it is refused, naming the rule, when it is empty, when nothing of it is visible, when it
 * holds a lone surrogate (not text), a bidirectional override or isolate (it reorders what a
 * reader sees, e.g. "abc\u202Etxt.exe"), or a control character (posts may keep line breaks and tabs).
 */
export const TextRule = Schema.Literal(
  "empty",
  "too-long",
  "invisible-only",
  "lone-surrogate",
  "bidi-control",
  "control-character"
)
export type TextRule = typeof TextRule.Type

/** U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/
/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same, but line breaks and tabs
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
/** Whitespace, format characters (zero-width spaces, joiners, marks), default-ignorables, braille blank. */
const INVISIBLE = /[\s\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/gu

export interface TextOptions {
  readonly maxLength: number
  /** Posts keep line breaks and tabs; titles don't. */
  readonly multiline: boolean
}

/** The text as stored (NFC, trimmed), or the rule it breaks. Pure and total. */
export const checkText = (text: string, options: TextOptions): Either.Either<string, TextRule> => {
  // Checked before normalising: NFC keeps a lone surrogate, but the rule is about the input.
  if (LONE_SURROGATE.test(text)) return Either.left("lone-surrogate")
  const normal = text.normalize("NFC").trim()
  if (normal.length === 0) return Either.left("empty")
  if ([...normal].length > options.maxLength) return Either.left("too-long")
  if ((options.multiline ? CONTROL_BUT_LINES : CONTROL).test(normal)) return Either.left("control-character")
  if (BIDI_CONTROL.test(normal)) return Either.left("bidi-control")
  if (normal.replace(INVISIBLE, "").length === 0) return Either.left("invisible-only")
  return Either.right(normal)
}

/** The rule in words, for error messages. */
export const describeTextRule = (rule: TextRule, maxLength: number): string => {
  switch (rule) {
    case "empty":
      return "it is empty"
    case "too-long":
      return `it is longer than ${maxLength} characters`
    case "invisible-only":
      return "nothing of it is visible"
    case "lone-surrogate":
      return "it contains a lone surrogate (not valid Unicode text)"
    case "bidi-control":
      return "it contains a bidirectional override or isolate"
    case "control-character":
      return "it contains control characters"
  }
}
