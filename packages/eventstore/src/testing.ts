/** Test helpers other packages' tests and benchmarks use (not part of the runtime API). */
export * from "./postgres/testing/cluster.js"
