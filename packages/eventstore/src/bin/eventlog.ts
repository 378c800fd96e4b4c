#!/usr/bin/env node
/**
 * Moves the event log between stores as JSON lines, e.g. SQLite → EventStoreDB:
 *   SPACES_DB_PATH=./.data/spaces.sqlite eventlog export log.jsonl
 *   EVENTSTORE_CONNECTION_STRING=esdb://localhost:2113?tls=false eventlog import log.jsonl
 * From the sources: node --conditions=@spaces/source --import tsx packages/eventstore/src/bin/eventlog.ts …
 */
import { runCli } from "../eventlog/cli.js"

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env
})
