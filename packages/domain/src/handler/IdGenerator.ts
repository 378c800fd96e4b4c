import { Context, Effect, Layer, Random } from "effect"

/** Where new ids come from; a service so tests can make them deterministic. */
export class IdGenerator extends Context.Tag("@spaces/domain/IdGenerator")<
  IdGenerator,
  { readonly uuid: Effect.Effect<string> }
>() {
  /** Random (v4) UUIDs from Effect's `Random` service: seedable in tests. */
  static readonly Default = Layer.succeed(IdGenerator, {
    uuid: Effect.map(
      Effect.all(Array.from({ length: 4 }, () => Random.nextIntBetween(0, 0x1_0000_0000))),
      (words) => {
        const hex = words.map((w) => w.toString(16).padStart(8, "0")).join("")
        const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
      }
    )
  })
}
