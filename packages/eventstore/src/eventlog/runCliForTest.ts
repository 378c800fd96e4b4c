import { PassThrough, Readable } from "node:stream"
import { runCli } from "./cli.js"

/** Runs the `eventlog` CLI with no input and its output dropped: its exit code and what it said on stderr. */
export const runCliForTest = async (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const stderr = new PassThrough()
  let errors = ""
  stderr.on("data", (chunk: Buffer) => {
    errors += chunk.toString()
  })
  const code = await runCli(args, { stdin: Readable.from([]), stdout: new PassThrough(), stderr, env })
  return { code, stderr: errors }
}
