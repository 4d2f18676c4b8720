-- The release ledger in PostgreSQL (DESIGN §4): the same table and columns as the SQLite file,
-- so a ledger copied between the two holds the same bytes and verifies on both.
--
-- `release` creates this itself on the first `start` when its role may create tables. A team
-- that wants the database to enforce append-only for the role the tool uses runs this file once
-- as an owner role, then grants the tool's role only what it needs (docs/TEAM.md):
--
--   psql "postgresql://release_owner@db.example.com/release" -f postgres_schema.sql
--   GRANT SELECT, INSERT ON events TO release;
--   GRANT SELECT ON meta TO release;
--   GRANT SELECT, INSERT, UPDATE, DELETE ON locks, snapshots TO release;
--   REVOKE UPDATE, DELETE, TRUNCATE ON events FROM release;   -- belt and braces: never granted
--
-- Every statement is safe to run again.

CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
    seq BIGINT PRIMARY KEY,              -- global and gapless: max + 1 under the append lock
    release TEXT NOT NULL,
    release_seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,               -- canonical JSON as text: jsonb would re-serialise it,
                                         -- and the hash is over these exact bytes
    actor TEXT NOT NULL,
    at TEXT NOT NULL,                    -- UTC ISO-8601 as recorded (hashed as text, too)
    idempotency_key TEXT UNIQUE,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (release, release_seq)        -- optimistic concurrency
);

-- Append-only even for a role that was granted more than it should: a trigger refuses it.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- Who holds a release's lock. The row is only a name: the lock itself is a session-level
-- advisory lock of the holder's connection, so a holder that dies frees it with its session.
CREATE TABLE IF NOT EXISTS locks (
    release TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    since TEXT NOT NULL,
    process_start TEXT,
    token TEXT NOT NULL                  -- this taking of the lock (pids repeat across machines)
);

-- A projection cache: rebuilt from events at any time, never trusted over them.
CREATE TABLE IF NOT EXISTS snapshots (
    release TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL
);

INSERT INTO meta (key, value) VALUES ('schema', '1') ON CONFLICT (key) DO NOTHING;
