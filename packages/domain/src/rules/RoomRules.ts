import { Context, Layer, Schema } from "effect"

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A topic slug: lower-case words joined by dashes; matching is case-insensitive. */
export const TopicSlug = Schema.String.pipe(
  Schema.trimmed(),
  Schema.lowercased(),
  Schema.pattern(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
    message: () => "a topic is a slug like 'web3' or 'live-music'"
  }),
  Schema.maxLength(40),
  Schema.brand("TopicSlug")
)
export type TopicSlug = typeof TopicSlug.Type

/** The operator's limits and policies (SPEC's "(config)" numbers). Data, not code. */
export const RoomRules = Schema.Struct({
  /** host + co-hosts + speakers. */
  maxSpeakers: Schema.Int.pipe(Schema.between(1, 100)),
  maxCoHosts: Schema.Int.pipe(Schema.between(0, 10)),
  /** `null`: unlimited listeners. */
  maxListeners: Schema.NullOr(Schema.Int.pipe(Schema.positive())),
  /** Hosting policy: followers a user needs to host (0 = anyone can host). */
  minFollowersToHost: Schema.Int.pipe(Schema.nonNegative()),
  scheduleMinLeadMs: Schema.Int.pipe(Schema.nonNegative()),
  scheduleMaxLeadMs: Schema.Int.pipe(Schema.positive()),
  /** A scheduled Space not started this long after its time expires. */
  scheduledExpiryMs: Schema.Int.pipe(Schema.positive()),
  /** How long a Space survives its host's absence. */
  hostGraceMs: Schema.Int.pipe(Schema.positive()),
  maxTitleLength: Schema.Int.pipe(Schema.between(1, 500)),
  maxTopics: Schema.Int.pipe(Schema.between(0, 20)),
  maxPostLength: Schema.Int.pipe(Schema.between(1, 10_000)),
  maxCaptionLength: Schema.Int.pipe(Schema.between(1, 10_000)),
  /** The topic catalogue; topics outside it are rejected. */
  topics: Schema.Array(TopicSlug)
})
export type RoomRules = typeof RoomRules.Type

export const defaultTopics: ReadonlyArray<TopicSlug> = [
  "art",
  "books",
  "business",
  "careers",
  "comedy",
  "crypto",
  "design",
  "education",
  "entertainment",
  "fashion",
  "fitness",
  "food",
  "gaming",
  "health",
  "history",
  "languages",
  "law",
  "live-music",
  "movies",
  "music",
  "news",
  "parenting",
  "philosophy",
  "podcasts",
  "politics",
  "religion",
  "science",
  "society",
  "space",
  "sports",
  "startups",
  "technology",
  "travel",
  "web3",
  "wellness"
].map((topic) => TopicSlug.make(topic))

/** SPEC defaults. */
export const defaultRoomRules: RoomRules = {
  maxSpeakers: 13,
  maxCoHosts: 2,
  maxListeners: null,
  minFollowersToHost: 0,
  scheduleMinLeadMs: MINUTE,
  scheduleMaxLeadMs: 30 * DAY,
  scheduledExpiryMs: HOUR,
  hostGraceMs: 5 * MINUTE,
  maxTitleLength: 70,
  maxTopics: 3,
  maxPostLength: 280,
  maxCaptionLength: 1_000,
  topics: defaultTopics
}

/** The rules in force, as a service so that an operator's configuration reaches the handler. */
export class Rules extends Context.Tag("@spaces/domain/Rules")<Rules, RoomRules>() {
  static readonly layer = (rules: RoomRules) => Layer.succeed(Rules, rules)
  static readonly Default = Layer.succeed(Rules, defaultRoomRules)
}
