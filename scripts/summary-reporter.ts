import { mkdirSync, writeFileSync } from "node:fs"
import type { Reporter, TestModule } from "vitest/node"

/**
 * Ends the run with one plain line, "Tests: N passed, N failed, N skipped", that CI and people
 * can read without knowing vitest's own summary format.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") counts.passed++
        else if (state === "failed") counts.failed++
        else counts.skipped++
      }
    }
    const line = `Tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`
    process.stdout.write(`\n${line}\n`)
    // Kept for the coverage report that follows (`npm test`), which ends the run with the same line.
    mkdirSync("test-results", { recursive: true })
    writeFileSync("test-results/summary.txt", `${line}\n`)
  }
}
