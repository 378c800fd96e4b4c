/** What the benchmarks read of a child process from /proc (Linux): its CPU time and its memory. */
import { readFileSync } from "node:fs"

/** Kernel clock ticks per second (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // The command name may contain spaces: the fields start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** Resident set size of a process, in MiB, from /proc/<pid>/status. */
export const rssMiB = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"))
  return line === undefined ? Number.NaN : Number(line.split(/\s+/)[1]) / 1024
}
