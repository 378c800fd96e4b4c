import { type FSWatcher, watch } from "node:fs"
import { basename, dirname } from "node:path"
import type Database from "better-sqlite3"

/** Safety net for file systems where change notifications do not arrive (network mounts). */
const FALLBACK_INTERVAL_MS = 2_000

/**
 * Wakes subscribers when another process commits to the same file.
 *
 * In-process commits notify the `CommitSignal` directly; a commit by another process leaves no trace
 * in ours except a write to the `-wal` file. So we watch the file's directory (inotify on Linux,
 * FSEvents on macOS: no polling, an idle store costs nothing) for changes to `<file>-wal`, and on
 * each change ask `PRAGMA data_version`, which moves only when *another* connection committed: our
 * own appends, which also touch the WAL, do not wake anyone twice. The directory rather than the WAL
 * file itself is watched because SQLite deletes and recreates the WAL when the last connection
 * closes. A 2-second `data_version` check covers file systems without notifications; it runs one
 * tiny query and is unref'd. Both run only while somebody subscribes.
 */
export const watchExternalCommits = (
  db: Database.Database,
  path: string,
  onCommit: () => void
): (() => void) => {
  const dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck(true)
  let seen = dataVersion.get()
  const check = () => {
    if (!db.open) return
    const now = dataVersion.get()
    if (now !== seen) {
      seen = now
      onCommit()
    }
  }
  const wal = `${basename(path)}-wal`
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file === null || file === wal) check()
    })
    watcher.on("error", () => watcher?.close())
  } catch {
    watcher = undefined
  }
  const timer = setInterval(check, FALLBACK_INTERVAL_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    watcher?.close()
  }
}
