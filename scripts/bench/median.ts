/** The middle value of `xs` (the upper one of an even count), for a benchmark's repeated rounds. */
export const median = (xs: ReadonlyArray<number>): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
