import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import type { EventData, RecordedEvent } from "@spaces/domain"

/*
 * The crash test every durable store passes: a writer process appends batches and prints a line
 * per acknowledged one; it is SIGKILLed anywhere; every acknowledged batch must then be in the log.
 */

/** One batch the writer appends: 1 to 64 events, sized by its number, each saying where it belongs. */
export const crashBatch = (batch: number): ReadonlyArray<EventData> => {
  const size = 1 + ((batch * 37) % 64)
  return Array.from({ length: size }, (_, index) => ({
    id: randomUUID(),
    type: "CrashTested",
    data: { batch, index, size, padding: "x".repeat(32) },
    metadata: { recordedAt: Date.now() }
  }))
}

export interface Acked {
  readonly batch: number
  readonly size: number
}

/**
 * A writer process (`script` with `args`), started ahead of its round so that loading its modules
 * overlaps earlier rounds. It waits for "go" on its stdin.
 */
export const startCrashWriter = (script: string, args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--conditions=@spaces/source", "--import", "tsx", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"]
  })
  const acked: Acked[] = []
  let pending = ""
  let stderr = ""
  let onAck = () => {}
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    pending += chunk
    const lines = pending.split("\n")
    pending = lines.pop() ?? ""
    for (const line of lines) {
      const [, batch, size] = line.split(" ")
      acked.push({ batch: Number(batch), size: Number(size) })
    }
    onAck()
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  // "close" comes after stdout is drained: lines still in the pipe when the kill landed were
  // written after their commit, so they count.
  const closed = new Promise<ReadonlyArray<Acked>>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked)
      else reject(new Error(`writer exited with ${code}: ${stderr}`))
    })
  })
  /**
   * Lets the writer go; once it has acknowledged a few batches, SIGKILLs it after a random extra
   * delay, so the kill lands anywhere: mid-transaction, mid-fsync, between appends.
   */
  const runAndKill = () => {
    onAck = () => {
      if (acked.length < 3) return
      onAck = () => {}
      setTimeout(() => child.kill("SIGKILL"), 5 + Math.random() * 150)
    }
    child.stdin.write("go\n")
    return closed
  }
  return { runAndKill, kill: () => child.kill("SIGKILL") }
}

const whole = (size: number) => Array.from({ length: size }, (_, i) => i)
const same = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

/**
 * What is wrong with the log after the kills (nothing: an empty list): every acknowledged batch
 * must be there whole, no batch partly (committed but unacknowledged ones are whole too), positions
 * strictly increasing, and each stream's revisions without gaps.
 */
export const crashLogProblems = (
  log: ReadonlyArray<RecordedEvent>,
  acked: ReadonlyArray<Acked>
): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const batches = new Map<number, { size: number; indexes: number[] }>()
  for (const event of log) {
    const data = event.data as { batch: number; index: number; size: number }
    const seen = batches.get(data.batch) ?? { size: data.size, indexes: [] }
    seen.indexes.push(data.index)
    batches.set(data.batch, seen)
  }
  for (const { batch, size } of acked) {
    const found = batches.get(batch)?.indexes ?? []
    if (!same(found, whole(size)))
      problems.push(`acknowledged batch ${batch}: ${found.length} of ${size} events`)
  }
  for (const [batch, { size, indexes }] of batches) {
    if (!same(indexes, whole(size)))
      problems.push(`batch ${batch} partly there: events ${indexes.join(",")} of ${size}`)
  }
  const next = new Map<string, number>()
  let position = 0
  for (const event of log) {
    if (event.position <= position) problems.push(`position ${event.position} after ${position}`)
    position = event.position
    const expected = next.get(event.streamId) ?? 0
    if (event.revision !== expected)
      problems.push(`${event.streamId}: revision ${event.revision}, ${expected} expected`)
    next.set(event.streamId, event.revision + 1)
  }
  return problems
}
