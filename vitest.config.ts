import { defineConfig } from "vitest/config"

// Tests import workspace packages from their TypeScript sources (the "@spaces/source" export
// condition), so `npm test` needs no build step.
// Tests run in Vite's SSR (node) environment, whose resolver reads `ssr.resolve.conditions`.
const conditions = ["@spaces/source", "module", "node", "development|production"]
const shared = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@spaces/source"] } }
}
const kind = (name: string, timeout: number) => ({
  ...shared,
  test: {
    name,
    include: [`packages/*/src/**/*.${name}.spec.ts`, `test/**/*.${name}.spec.ts`],
    testTimeout: timeout,
    hookTimeout: timeout
  }
})

export default defineConfig({
  ...shared,
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    projects: [kind("unit", 30_000), kind("int", 120_000), kind("e2e", 300_000)],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts"],
      exclude: ["**/*.spec.ts", "**/testing/**"],
      reporter: ["text-summary", "json-summary"],
      thresholds: { "packages/domain/src/**": { lines: 95 } }
    }
  }
})
