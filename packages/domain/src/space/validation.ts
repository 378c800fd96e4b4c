import { Effect, Either } from "effect"
import type { RoomRules, TopicSlug } from "../rules/RoomRules.js"
import { InvalidCaption, InvalidPost, InvalidTitle, InvalidTopics, ScheduleOutOfRange } from "./SpaceError.js"
import type { CaptionSegment } from "./SpaceValues.js"
import { checkText, describeTextRule } from "./text.js"

/** A title normalised (NFC) and trimmed, 1 to `maxTitleLength` characters a reader can see (see `checkText`). */
export const validTitle = (title: string, rules: RoomRules): Effect.Effect<string, InvalidTitle> => {
  const maxLength = rules.maxTitleLength
  return Either.match(checkText(title, { maxLength, multiline: false }), {
    onLeft: (rule) =>
      Effect.fail(new InvalidTitle({ rule, reason: describeTextRule(rule, maxLength), maxLength })),
    onRight: Effect.succeed
  })
}

/** Topics as catalogue slugs: case-insensitive, duplicates folded, at most `maxTopics`. */
export const validTopics = (
  topics: ReadonlyArray<string>,
  rules: RoomRules
): Effect.Effect<ReadonlyArray<TopicSlug>, InvalidTopics> => {
  const slugs = [...new Set(topics.map((topic) => topic.trim().toLowerCase()))]
  const fail = (reason: string) => Effect.fail(new InvalidTopics({ reason, maxTopics: rules.maxTopics }))
  if (slugs.length > rules.maxTopics) return fail(`${slugs.length} topics, more than ${rules.maxTopics}`)
  const known = slugs.flatMap((slug) => rules.topics.filter((topic) => topic === slug))
  if (known.length < slugs.length) {
    const unknown = slugs.filter((slug) => !known.some((topic) => topic === slug))
    return fail(`not in the catalogue: ${unknown.join(", ")}`)
  }
  return Effect.succeed(known)
}

export const validSchedule = (
  scheduledFor: number,
  now: number,
  rules: RoomRules
): Effect.Effect<number, ScheduleOutOfRange> => {
  const earliest = now + rules.scheduleMinLeadMs
  const latest = now + rules.scheduleMaxLeadMs
  return scheduledFor >= earliest && scheduledFor <= latest
    ? Effect.succeed(scheduledFor)
    : Effect.fail(new ScheduleOutOfRange({ requested: scheduledFor, earliest, latest }))
}

/** A post's text: the title's rules, but line breaks and tabs are allowed. */
export const validPostText = (text: string, rules: RoomRules): Effect.Effect<string, InvalidPost> => {
  const maxLength = rules.maxPostLength
  return Either.match(checkText(text, { maxLength, multiline: true }), {
    onLeft: (rule) =>
      Effect.fail(new InvalidPost({ rule, reason: describeTextRule(rule, maxLength), maxLength })),
    onRight: Effect.succeed
  })
}

export const validCaption = (
  segment: CaptionSegment,
  rules: RoomRules
): Effect.Effect<CaptionSegment, InvalidCaption> => {
  const text = segment.text.trim()
  const fail = (reason: string) => Effect.fail(new InvalidCaption({ reason }))
  if (text.length === 0) return fail("its text is empty")
  if ([...text].length > rules.maxCaptionLength)
    return fail(`its text is longer than ${rules.maxCaptionLength}`)
  if (segment.endMs < segment.startMs) return fail("it ends before it starts")
  return Effect.succeed({ ...segment, text })
}
