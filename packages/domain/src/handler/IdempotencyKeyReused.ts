import { Schema } from "effect"
import type { RuleKind } from "../space/SpaceError.js"

/**
 * An idempotency key already answered a different command on this stream. Replaying the first
 * outcome would tell the client its new command succeeded when it was never applied.
 */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  key: Schema.String
}) {
  readonly kind: RuleKind = "invalid"
  override get message() {
    return `idempotency key ${this.key} was already used for a different command; a new command needs a new key`
  }
}
