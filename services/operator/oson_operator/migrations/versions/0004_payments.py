"""Participants, wallets, operations, the double-entry ledger, idempotency.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


SPECIALIZED_ACCOUNT = "00000000-0000-4000-8000-00000000000a"
COMMISSION_ACCOUNT = "00000000-0000-4000-8000-00000000000b"

SCHEMA_SQL = f"""
CREATE TABLE oson.participant (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('individual', 'legal_entity', 'individual_entrepreneur',
                                      'partner', 'partner_bank', 'issuer')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    iin_bin text NOT NULL CHECK (iin_bin ~ '^[0-9]{{12}}$'),
    phone text,
    email text,
    birth_date date,
    identification text CHECK (identification IN ('unidentified', 'simplified', 'identified')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    legal_form text CHECK (legal_form IN ('legal_entity', 'individual_entrepreneur')),
    tariff text,
    details jsonb NOT NULL DEFAULT '{{}}',
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    CHECK ((kind = 'individual') = (identification IS NOT NULL)),
    UNIQUE (kind, iin_bin)
);
CREATE INDEX participant_created_at ON oson.participant (created_at);

CREATE TABLE oson.participant_change (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id uuid NOT NULL REFERENCES oson.participant (id),
    field text NOT NULL,
    old_value text,
    new_value text,
    reason text,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL
);
CREATE INDEX participant_change_participant ON oson.participant_change (participant_id, id);

CREATE TABLE oson.account (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('wallet', 'specialized', 'commission_income')),
    participant_id uuid REFERENCES oson.participant (id),
    issuer_id uuid REFERENCES oson.participant (id),
    currency char(3) NOT NULL DEFAULT 'KZT',
    -- Kept for wallets only (system accounts are summed from the ledger, so no row is hot).
    balance bigint NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'closed')),
    block_mode text CHECK (block_mode IN ('full', 'debit')),
    block_reason text,
    blocked_until timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT wallet_never_negative CHECK (kind <> 'wallet' OR balance >= 0),
    CHECK ((kind = 'wallet') = (participant_id IS NOT NULL))
);
CREATE INDEX account_participant ON oson.account (participant_id);

CREATE TABLE oson.account_change (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES oson.account (id),
    action text NOT NULL,
    reason text,
    block_mode text,
    blocked_until timestamptz,
    changed_at timestamptz NOT NULL,
    changed_by text NOT NULL
);
CREATE INDEX account_change_account ON oson.account_change (account_id, id);

CREATE SEQUENCE oson.receipt_number;

CREATE TABLE oson.operation (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('issuance', 'payment', 'transfer', 'return', 'redemption')),
    status text NOT NULL CHECK (status IN ('completed', 'refused')),
    reason_code text,
    amount bigint NOT NULL CHECK (amount >= 0),
    commission bigint NOT NULL DEFAULT 0 CHECK (commission >= 0),
    payer_account uuid REFERENCES oson.account (id),
    payee_account uuid REFERENCES oson.account (id),
    original_operation uuid REFERENCES oson.operation (id),
    receipt_number bigint UNIQUE,
    details jsonb NOT NULL DEFAULT '{{}}',
    actor text NOT NULL,
    request_id text,
    created_at timestamptz NOT NULL,
    operational_day date NOT NULL,
    CHECK ((status = 'refused') = (reason_code IS NOT NULL))
);
CREATE INDEX operation_payer_day ON oson.operation (payer_account, operational_day) WHERE status = 'completed';
CREATE INDEX operation_payee ON oson.operation (payee_account, created_at);
CREATE INDEX operation_created_at ON oson.operation (created_at);
CREATE INDEX operation_original ON oson.operation (original_operation) WHERE original_operation IS NOT NULL;

CREATE TABLE oson.ledger_entry (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    operation_id uuid NOT NULL REFERENCES oson.operation (id),
    account_id uuid NOT NULL REFERENCES oson.account (id),
    amount bigint NOT NULL CHECK (amount <> 0),
    created_at timestamptz NOT NULL,
    operational_day date NOT NULL
);
CREATE INDEX ledger_entry_account ON oson.ledger_entry (account_id, id);
CREATE INDEX ledger_entry_operation ON oson.ledger_entry (operation_id);

CREATE TABLE oson.idempotency_key (
    actor text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash text NOT NULL,
    status_code integer,
    -- json, not jsonb: the stored answer keeps its key order, so a replay is byte-identical.
    response json,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (actor, key)
);

-- Ledger rows and operations are never changed: corrections are new operations.
CREATE FUNCTION oson.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on %.% is not allowed: rows are append-only, correct with a new operation',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER operation_append_only BEFORE UPDATE OR DELETE ON oson.operation
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER operation_no_truncate BEFORE TRUNCATE ON oson.operation
    FOR EACH STATEMENT EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON oson.ledger_entry
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON oson.ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER participant_change_append_only BEFORE UPDATE OR DELETE ON oson.participant_change
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER account_change_append_only BEFORE UPDATE OR DELETE ON oson.account_change
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();

-- Every operation's entries balance, checked by the database at commit (defence in depth).
CREATE FUNCTION oson.check_operation_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total FROM oson.ledger_entry WHERE operation_id = NEW.id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'operation % does not balance: entries sum to %', NEW.id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER operation_balanced AFTER INSERT ON oson.operation
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION oson.check_operation_balanced();

INSERT INTO oson.account (id, kind, created_at) VALUES
    ('{SPECIALIZED_ACCOUNT}', 'specialized', now()),
    ('{COMMISSION_ACCOUNT}', 'commission_income', now());
"""


def upgrade() -> None:
    op.execute(SCHEMA_SQL)
    role = _runtime_role()
    op.execute(f"GRANT SELECT, INSERT ON oson.participant_change, oson.account_change, oson.operation, "
               f"oson.ledger_entry TO {role}")
    op.execute(f"GRANT SELECT, INSERT ON oson.participant, oson.account TO {role}")
    op.execute(f"GRANT UPDATE (identification, status, details) ON oson.participant TO {role}")
    op.execute(f"GRANT UPDATE (balance, status, block_mode, block_reason, blocked_until) ON oson.account "
               f"TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON oson.idempotency_key TO {role}")
    op.execute(f"GRANT USAGE ON SEQUENCE oson.receipt_number TO {role}")
    op.execute("UPDATE oson.app_meta SET value = '0004', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    for table in ("idempotency_key", "ledger_entry", "operation", "account_change", "account",
                  "participant_change", "participant"):
        op.execute(f"DROP TABLE oson.{table}")
    op.execute("DROP SEQUENCE oson.receipt_number")
    op.execute("DROP FUNCTION oson.check_operation_balanced(), oson.refuse_change()")
    op.execute("UPDATE oson.app_meta SET value = '0003', updated_at = now() WHERE key = 'schema_version'")
