#!/usr/bin/env node
/**
 * The operators' tool: `spaces rebuild [name|all]`, `spaces status`, `spaces replay <spaceId> …`.
 * From the sources: npm run spaces -- status
 */
import { runCli } from "../cli/cli.js"

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  tty: process.stderr.isTTY === true
})
