/** Test helpers other packages' tests and benchmarks use (not part of the runtime API). */
export * from "./cluster/testing/redisServer.js"
