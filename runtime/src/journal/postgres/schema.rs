//! The tables of the PostgreSQL journal, created and migrated on first use
//! and versioned in `hookflow_journal_schema`.
//!
//! Migrations run in one transaction under an advisory lock, so processes
//! starting together migrate once; a database whose version is newer than
//! [`SCHEMA_VERSION`] is refused, never changed.

use postgres::Client;

use super::conn::{db_error, Settings};
use crate::journal::error::JournalError;

/// The schema version this build creates, and the newest it uses.
pub const SCHEMA_VERSION: i32 = 1;

/// The key of the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x686f_6f6b_666c_6f77; // "hookflow"

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [V1];

/// Version 1: segments with their lease and epoch, records in order,
/// deliveries keyed by their delivery key, and the append function.
const V1: &str = r#"
CREATE TABLE hookflow_journal_segments (
    id          text PRIMARY KEY,
    epoch       bigint NOT NULL,
    lease_until timestamptz NOT NULL,
    last_append text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hookflow_journal_records (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment text NOT NULL REFERENCES hookflow_journal_segments (id) ON DELETE CASCADE,
    run_id  text NOT NULL,
    payload bytea NOT NULL
);
CREATE INDEX hookflow_journal_records_segment ON hookflow_journal_records (segment, id);

CREATE TABLE hookflow_journal_deliveries (
    key     text PRIMARY KEY,
    segment text NOT NULL REFERENCES hookflow_journal_segments (id) ON DELETE CASCADE,
    run_id  text NOT NULL,
    epoch   bigint NOT NULL,
    ended   boolean NOT NULL DEFAULT false
);
CREATE INDEX hookflow_journal_deliveries_run ON hookflow_journal_deliveries (segment, run_id);

-- One append: fencing, idempotence, deliveries, records, closed runs, in
-- one statement (one round trip, one transaction).
CREATE FUNCTION hookflow_journal_append_v1(
    p_segment   text,
    p_epoch     bigint,
    p_lease_ms  bigint,
    p_append    text,
    p_runs      text[],
    p_payloads  bytea[],
    p_ops       text[],
    p_keys      text[],
    p_key_runs  text[],
    p_closed    text[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    v_epoch bigint;
    v_last  text;
    i       integer;
BEGIN
    SELECT epoch, last_append INTO v_epoch, v_last
      FROM hookflow_journal_segments WHERE id = p_segment FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment % is gone', p_segment
            USING ERRCODE = 'HF001', DETAIL = '';
    END IF;
    IF v_epoch <> p_epoch THEN
        RAISE EXCEPTION 'segment % has epoch %, not %', p_segment, v_epoch, p_epoch
            USING ERRCODE = 'HF001', DETAIL = v_epoch::text;
    END IF;
    IF v_last IS NOT DISTINCT FROM p_append THEN
        RETURN; -- a retried append that was stored before the connection broke
    END IF;
    UPDATE hookflow_journal_segments
       SET lease_until = now() + p_lease_ms * interval '1 millisecond',
           last_append = p_append
     WHERE id = p_segment;

    FOR i IN 1 .. cardinality(p_keys) LOOP
        IF p_ops[i] = 'S' THEN
            INSERT INTO hookflow_journal_deliveries (key, segment, run_id, epoch)
                 VALUES (p_keys[i], p_segment, p_key_runs[i], p_epoch)
            ON CONFLICT (key) DO NOTHING;
        ELSIF p_ops[i] = 'R' THEN
            UPDATE hookflow_journal_deliveries SET epoch = p_epoch
             WHERE key = p_keys[i] AND NOT ended AND epoch < p_epoch;
            IF NOT FOUND THEN
                INSERT INTO hookflow_journal_deliveries (key, segment, run_id, epoch)
                     VALUES (p_keys[i], p_segment, p_key_runs[i], p_epoch)
                ON CONFLICT (key) DO NOTHING;
            END IF;
        ELSE
            UPDATE hookflow_journal_deliveries SET ended = true
             WHERE key = p_keys[i] AND NOT ended;
            IF NOT FOUND THEN
                INSERT INTO hookflow_journal_deliveries (key, segment, run_id, epoch, ended)
                     VALUES (p_keys[i], p_segment, p_key_runs[i], p_epoch, true)
                ON CONFLICT (key) DO NOTHING;
            END IF;
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the delivery % is already recorded', p_keys[i]
                USING ERRCODE = 'HF002', DETAIL = p_keys[i];
        END IF;
    END LOOP;

    FOR i IN 1 .. cardinality(p_payloads) LOOP
        IF p_runs[i] <> ALL (p_closed) THEN
            INSERT INTO hookflow_journal_records (segment, run_id, payload)
                 VALUES (p_segment, p_runs[i], p_payloads[i]);
        END IF;
    END LOOP;

    IF cardinality(p_closed) > 0 THEN
        DELETE FROM hookflow_journal_records
         WHERE segment = p_segment AND run_id = ANY (p_closed);
        DELETE FROM hookflow_journal_deliveries
         WHERE segment = p_segment AND run_id = ANY (p_closed);
    END IF;
END
$fn$;
"#;

/// Creates or migrates the schema, or refuses a newer one.
pub(super) fn ensure(client: &mut Client, settings: &Settings) -> Result<(), JournalError> {
    let fail = |e: postgres::Error| db_error("create the journal schema in", &e.into(), settings);
    let mut tx = client.transaction().map_err(fail)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(fail)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hookflow_journal_schema (
             singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
             version   integer NOT NULL
         )",
    )
    .map_err(fail)?;
    let found: i32 = tx
        .query_opt("SELECT version FROM hookflow_journal_schema", &[])
        .map_err(fail)?
        .map_or(0, |row| row.get(0));
    if found > SCHEMA_VERSION {
        return Err(JournalError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(()); // the transaction rolls back: nothing was changed
    }
    for migration in &MIGRATIONS[found.max(0) as usize..] {
        tx.batch_execute(migration).map_err(fail)?;
    }
    tx.execute(
        "INSERT INTO hookflow_journal_schema (version) VALUES ($1)
         ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version",
        &[&SCHEMA_VERSION],
    )
    .map_err(fail)?;
    tx.commit().map_err(fail)
}
