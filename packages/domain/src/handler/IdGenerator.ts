import { Context, Effect, Layer } from "effect"

/** The Web Crypto global (Node 19+, Deno, Bun, browsers): the domain stays free of node's modules. */
const webCrypto = (globalThis as unknown as { readonly crypto: { readonly randomUUID: () => string } }).crypto

/** Where new ids come from; a service so tests can make them deterministic (provide another layer). */
export class IdGenerator extends Context.Tag("@spaces/domain/IdGenerator")<
  IdGenerator,
  { readonly uuid: Effect.Effect<string> }
>() {
  /**
   * Random (v4) UUIDs from the platform's generator, one call per event id. (Four draws of
   * Effect's `Random` and their hex formatting cost about 1.5% of a join's CPU.)
   */
  static readonly Default = Layer.succeed(IdGenerator, { uuid: Effect.sync(() => webCrypto.randomUUID()) })
}
