import { Schema } from "effect"
import type { RuleKind } from "../space/SpaceError.js"

/** Writers kept racing on one stream beyond the retry budget; the command changed nothing. */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  stream: Schema.String,
  attempts: Schema.Int
}) {
  readonly kind: RuleKind = "state"
  override get message() {
    return `stream ${this.stream} kept changing during ${this.attempts} attempts; try again`
  }
}
