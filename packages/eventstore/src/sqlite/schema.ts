import type Database from "better-sqlite3"

/**
 * How hard a commit waits for the disk.
 * - `normal` (default): in WAL mode a commit is durable against a process crash at once, and against
 *   power loss or an OS crash from the next checkpoint on; it never corrupts the file. Appends cost
 *   no fsync, so they are fast.
 * - `full`: every commit fsyncs the WAL before it returns; an acknowledged append survives power loss.
 */
export type SqliteSynchronous = "normal" | "full"

/**
 * One table holds the log. `position` is the rowid: assigned in commit order by the single writer,
 * never reused because nothing is ever deleted, so it is the global position (from 1). The
 * UNIQUE(stream, revision) index serves stream reads and is the last line of defence against two
 * writers deciding the same revision.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY,
  stream   TEXT    NOT NULL,
  revision INTEGER NOT NULL,
  id       TEXT    NOT NULL,
  type     TEXT    NOT NULL,
  data     TEXT    NOT NULL,
  metadata TEXT    NOT NULL,
  UNIQUE (stream, revision)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL
) WITHOUT ROWID;
`

/** Opens the file in WAL mode with the chosen durability, and creates the tables if absent. */
export const prepareDatabase = (db: Database.Database, synchronous: SqliteSynchronous): void => {
  db.pragma("journal_mode = WAL")
  db.pragma(`synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`)
  // Readers and a writer in another process wait for the lock instead of failing at once.
  db.pragma("busy_timeout = 5000")
  // Stream reads and appends touch the same pages again and again: a bigger cache pays off.
  db.pragma("cache_size = -32768")
  db.exec(DDL)
}
