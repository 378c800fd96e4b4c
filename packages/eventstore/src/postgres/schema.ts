import type pg from "pg"

/** The channel appends NOTIFY on commit; the payload is the last position written. */
export const CHANNEL = "spaces_events"

/**
 * Key of the transaction-level advisory lock every append takes before it picks positions. Appends
 * are serialised by it, so positions are handed out in commit order (see `APPEND_FUNCTION`).
 */
export const APPEND_LOCK = 7_357_001_501
/** Key of the advisory lock that serialises schema migrations of nodes starting at once. */
const MIGRATION_LOCK = 7_357_001_500

export const SCHEMA_VERSION = 1

/**
 * `position` is assigned by the append function (not a sequence): the previous maximum + 1, while
 * holding `APPEND_LOCK`. `data`/`metadata` are `json` (kept verbatim, so `\u0000` and key order
 * survive), not `jsonb`. UNIQUE(stream, revision) serves stream reads and is the last line of defence
 * against two writers taking the same revision.
 */
const TABLES = `
CREATE TABLE IF NOT EXISTS spaces_events (
  position bigint PRIMARY KEY,
  stream   text   NOT NULL,
  revision bigint NOT NULL,
  id       text   NOT NULL,
  type     text   NOT NULL,
  data     json   NOT NULL,
  metadata json   NOT NULL,
  UNIQUE (stream, revision)
);
CREATE TABLE IF NOT EXISTS spaces_checkpoints (
  name     text   PRIMARY KEY,
  position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS spaces_schema (
  version  integer NOT NULL
);
`

/** How the expected revision travels to the append function (a revision is itself, ≥ 0). */
export const EXPECTED_NO_STREAM = -1
export const EXPECTED_STREAM_EXISTS = -2
export const EXPECTED_ANY = -3

/**
 * One append is one statement, so one transaction and one round trip:
 * 1. take `APPEND_LOCK` (held until commit, released only after the commit is visible);
 * 2. read the stream's last event; a retry of the stream's tail (same ids) returns the original
 *    result and writes nothing;
 * 3. check the expected revision, returning the actual one on a conflict (nothing written);
 * 4. insert at positions max(position)+1… and NOTIFY.
 * Because every writer picks its positions under the lock and commits before releasing it, the
 * committed events always form a prefix of the positions: a reader that has seen position p can
 * never see a smaller position commit later.
 */
const APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION spaces_append(
  p_stream text, p_expected bigint, p_ids text[], p_types text[], p_data text[], p_metadata text[]
) RETURNS TABLE (appended boolean, next_revision bigint, last_position bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  n integer := coalesce(array_length(p_ids, 1), 0);
  last_rev bigint;
  last_id text;
  last_pos bigint;
  tail text[];
  top bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK});
  SELECT e.revision, e.id, e.position INTO last_rev, last_id, last_pos
    FROM spaces_events e WHERE e.stream = p_stream ORDER BY e.revision DESC LIMIT 1;
  IF NOT FOUND THEN
    last_rev := -1;
  END IF;
  IF last_rev >= 0 AND n > 0 AND last_id = p_ids[n] THEN
    SELECT array_agg(e.id ORDER BY e.revision) INTO tail
      FROM spaces_events e WHERE e.stream = p_stream AND e.revision > last_rev - n;
    IF tail = p_ids THEN
      RETURN QUERY SELECT true, last_rev, last_pos;
      RETURN;
    END IF;
  END IF;
  IF NOT (p_expected = ${EXPECTED_ANY}
      OR (p_expected = ${EXPECTED_NO_STREAM} AND last_rev = -1)
      OR (p_expected = ${EXPECTED_STREAM_EXISTS} AND last_rev >= 0)
      OR p_expected = last_rev) THEN
    RETURN QUERY SELECT false, last_rev, NULL::bigint;
    RETURN;
  END IF;
  SELECT coalesce(max(e.position), 0) INTO top FROM spaces_events e;
  IF n = 0 THEN
    RETURN QUERY SELECT true, last_rev, top;
    RETURN;
  END IF;
  INSERT INTO spaces_events (position, stream, revision, id, type, data, metadata)
    SELECT top + u.ord, p_stream, last_rev + u.ord, u.id, u.type, u.data::json, u.metadata::json
      FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u(id, type, data, metadata, ord);
  PERFORM pg_notify('${CHANNEL}', (top + n)::text);
  RETURN QUERY SELECT true, last_rev + n, top + n;
END
$fn$;
`

/**
 * Several appends in one statement, so in one transaction and one commit (a group commit): each is
 * `spaces_append` on its slice of the flat arrays (`p_counts[k]` events each), in order, with its
 * own expected-revision check and its own row in the result; a refused one writes nothing and does
 * not stop the others.
 */
const APPEND_MANY_FUNCTION = `
CREATE OR REPLACE FUNCTION spaces_append_many(
  p_streams text[], p_expected bigint[], p_counts integer[],
  p_ids text[], p_types text[], p_data text[], p_metadata text[]
) RETURNS TABLE (appended boolean, next_revision bigint, last_position bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  k integer;
  first integer := 1;
  last integer;
  outcome record;
BEGIN
  FOR k IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
    last := first + p_counts[k] - 1;
    SELECT * INTO outcome FROM spaces_append(p_streams[k], p_expected[k],
      p_ids[first:last], p_types[first:last], p_data[first:last], p_metadata[first:last]);
    appended := outcome.appended;
    next_revision := outcome.next_revision;
    last_position := outcome.last_position;
    RETURN NEXT;
    first := last + 1;
  END LOOP;
END
$fn$;
`

/**
 * Creates or migrates the schema, idempotently: every statement is "if not exists" / "or replace",
 * and nodes starting at once take turns (a transaction-level advisory lock), since concurrent
 * `CREATE TABLE IF NOT EXISTS` can still collide in PostgreSQL's catalog.
 */
export const migrate = async (client: pg.ClientBase): Promise<void> => {
  await client.query("BEGIN")
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`)
    await client.query(TABLES)
    await client.query(APPEND_FUNCTION)
    await client.query(APPEND_MANY_FUNCTION)
    await client.query(
      `INSERT INTO spaces_schema (version) SELECT ${SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM spaces_schema)`
    )
    await client.query(
      `UPDATE spaces_schema SET version = ${SCHEMA_VERSION} WHERE version < ${SCHEMA_VERSION}`
    )
    await client.query("COMMIT")
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined)
    throw error
  }
}
