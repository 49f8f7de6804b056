"""The event log (append-only, hash-chained, signed checkpoints).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 00:00:00+00:00

Design (see docs/event-log.md):

* ``oson.event`` holds one row per event (§14.1(11)). A BEFORE INSERT trigger chains each row into
  one of ``CHAINS`` independent hash chains: ``hash = sha256(prev_hash || canonical bytes)``. The
  chain is the caller's ``chain`` if set, else ``pg_backend_pid() % CHAINS``, so the events of one
  transaction stay in order in one chain while concurrent writers mostly use different chains.
* ``oson.event_chain_head`` keeps each chain's last (seq, hash). The trigger locks the head row
  until commit, so a chain has no gaps: a rolled-back event gives its seq back. Only the trigger
  (SECURITY DEFINER, owned by the owner) touches it; the runtime login has no privilege on it.
* The canonical bytes are defined once, in ``oson.event_canonical``; ``domain/event_chain.py``
  mirrors them exactly, and a test compares the two.
* The runtime login may INSERT and SELECT ``oson.event`` and ``oson.event_checkpoint``, nothing
  else; guard triggers refuse UPDATE, DELETE and TRUNCATE even to the owner.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINS = 16


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


TABLES = """
CREATE TABLE oson.event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chain smallint NOT NULL,
    chain_seq bigint NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor text NOT NULL,
    action text NOT NULL,
    record_type text NULL,
    record_id text NULL,
    result text NOT NULL,
    source_address text NULL,
    request_id text NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT event_chain_seq_key UNIQUE (chain, chain_seq)
);
-- (started_at, id): time ranges, and the newest-first pages of GET /api/events (keyset on both).
CREATE INDEX event_started_at_idx ON oson.event (started_at, id);
CREATE INDEX event_record_idx ON oson.event (record_type, record_id);
COMMENT ON TABLE oson.event IS
    'Append-only event log (§14.1(11)); hash-chained by trigger; see docs/event-log.md';

CREATE TABLE oson.event_chain_head (
    chain smallint PRIMARY KEY,
    seq bigint NOT NULL,
    hash bytea NOT NULL
);
COMMENT ON TABLE oson.event_chain_head IS
    'Last (seq, hash) of each event chain; written only by the oson.event insert trigger';

CREATE TABLE oson.event_checkpoint (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    heads jsonb NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL
);
COMMENT ON TABLE oson.event_checkpoint IS
    'Ed25519-signed snapshots of the committed chain heads; also exported as files';
"""

# NULL and '' must differ, and no value may be able to imitate a separator: every text field is
# written as '-' (NULL) or '<characters>:<value>'. Timestamps are epoch microseconds, so the
# session's TimeZone and DateStyle do not matter. details is jsonb's normalized text form.
FUNCTIONS = r"""
CREATE FUNCTION oson.event_field(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value IS NULL THEN '-' ELSE char_length(value)::text || ':' || value END;

CREATE FUNCTION oson.event_micros(value timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN value IS NULL THEN '-'
                ELSE (EXTRACT(EPOCH FROM value) * 1000000)::bigint::text END;

CREATE FUNCTION oson.event_canonical(
    id bigint, chain smallint, chain_seq bigint,
    started_at timestamptz, ended_at timestamptz, recorded_at timestamptz,
    actor text, action text, record_type text, record_id text, result text,
    source_address text, request_id text, details jsonb
) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN convert_to(concat_ws(E'\x1f',
        'oson.event.v1', id::text, chain::text, chain_seq::text,
        oson.event_micros(started_at), oson.event_micros(ended_at), oson.event_micros(recorded_at),
        oson.event_field(actor), oson.event_field(action),
        oson.event_field(record_type), oson.event_field(record_id),
        oson.event_field(result), oson.event_field(source_address), oson.event_field(request_id),
        oson.event_field(details::text)), 'UTF8');

CREATE FUNCTION oson.event_chain_append() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, oson
AS $$
DECLARE
    v_chain smallint := coalesce(NEW.chain, (pg_backend_pid() % {chains})::smallint);
    v_seq bigint;
    v_prev bytea;
BEGIN
    -- The row lock is held to commit: the next writer of this chain waits, and a rollback
    -- gives the seq back, so a chain never has gaps.
    SELECT h.seq, h.hash INTO v_seq, v_prev
      FROM oson.event_chain_head h WHERE h.chain = v_chain FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event chain % does not exist', v_chain
            USING HINT = 'chains are 0..{last}; leave oson.event.chain unset to pick one';
    END IF;
    NEW.chain := v_chain;
    NEW.chain_seq := v_seq + 1;
    NEW.prev_hash := v_prev;
    NEW.recorded_at := clock_timestamp();
    NEW.hash := sha256(v_prev || oson.event_canonical(
        NEW.id, NEW.chain, NEW.chain_seq, NEW.started_at, NEW.ended_at, NEW.recorded_at,
        NEW.actor, NEW.action, NEW.record_type, NEW.record_id, NEW.result,
        NEW.source_address, NEW.request_id, NEW.details));
    UPDATE oson.event_chain_head SET seq = NEW.chain_seq, hash = NEW.hash WHERE chain = v_chain;
    RETURN NEW;
END
$$;

CREATE FUNCTION oson.event_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    RAISE EXCEPTION 'oson.% is append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'events and checkpoints are never changed; record a new event instead';
END
$$;

-- The committed heads, for the verifier (the runtime login may not read the head table itself).
CREATE FUNCTION oson.event_chain_heads() RETURNS TABLE (chain smallint, seq bigint, hash bytea)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, oson
AS $$ SELECT h.chain, h.seq, h.hash FROM oson.event_chain_head h ORDER BY h.chain $$;
"""

TRIGGERS = """
CREATE TRIGGER event_chain_append BEFORE INSERT ON oson.event
    FOR EACH ROW EXECUTE FUNCTION oson.event_chain_append();
CREATE TRIGGER event_refuse_change BEFORE UPDATE OR DELETE ON oson.event
    FOR EACH ROW EXECUTE FUNCTION oson.event_log_refuse_change();
CREATE TRIGGER event_refuse_truncate BEFORE TRUNCATE ON oson.event
    FOR EACH STATEMENT EXECUTE FUNCTION oson.event_log_refuse_change();
CREATE TRIGGER event_checkpoint_refuse_change BEFORE UPDATE OR DELETE ON oson.event_checkpoint
    FOR EACH ROW EXECUTE FUNCTION oson.event_log_refuse_change();
CREATE TRIGGER event_checkpoint_refuse_truncate BEFORE TRUNCATE ON oson.event_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION oson.event_log_refuse_change();
CREATE TRIGGER event_chain_head_refuse_delete BEFORE DELETE ON oson.event_chain_head
    FOR EACH ROW EXECUTE FUNCTION oson.event_log_refuse_change();
CREATE TRIGGER event_chain_head_refuse_truncate BEFORE TRUNCATE ON oson.event_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION oson.event_log_refuse_change();
"""


def upgrade() -> None:
    op.execute(TABLES)
    functions = FUNCTIONS.replace("{chains}", str(CHAINS)).replace("{last}", str(CHAINS - 1))
    op.execute(functions)
    op.execute(TRIGGERS)
    op.execute(
        "INSERT INTO oson.event_chain_head (chain, seq, hash) "
        f"SELECT c, 0, '\\x{'00' * 32}'::bytea FROM generate_series(0, {CHAINS - 1}) AS c"
    )
    role = _runtime_role()
    for function in ("event_chain_append()", "event_log_refuse_change()", "event_chain_heads()"):
        op.execute(f"REVOKE ALL ON FUNCTION oson.{function} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION oson.event_chain_heads() TO {role}")
    op.execute(f"GRANT SELECT, INSERT ON TABLE oson.event TO {role}")
    op.execute(f"GRANT SELECT, INSERT ON TABLE oson.event_checkpoint TO {role}")
    op.execute("UPDATE oson.app_meta SET value = '0002', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    role = _runtime_role()
    op.execute(f"REVOKE ALL ON TABLE oson.event, oson.event_checkpoint FROM {role}")
    op.execute("DROP TABLE oson.event, oson.event_chain_head, oson.event_checkpoint")
    op.execute(
        "DROP FUNCTION oson.event_chain_append(), oson.event_log_refuse_change(), oson.event_chain_heads(), "
        "oson.event_canonical(bigint, smallint, bigint, timestamptz, timestamptz, timestamptz, text, text, "
        "text, text, text, text, text, jsonb), oson.event_micros(timestamptz), oson.event_field(text)"
    )
    op.execute("UPDATE oson.app_meta SET value = '0001', updated_at = now() WHERE key = 'schema_version'")
