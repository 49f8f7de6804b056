"""Back office cases: documents, counterparty keys, incidents, AML, disputes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


SCHEMA_SQL = """
-- Electronic document exchange (§14.1(10), §VII) ------------------------------------------------
CREATE TABLE oson.counterparty_key (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    counterparty text NOT NULL CHECK (counterparty ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    participant_id uuid REFERENCES oson.participant (id),
    kind text NOT NULL CHECK (kind IN ('ed25519', 'x509')),
    algorithm text NOT NULL,
    material text NOT NULL,
    fingerprint text NOT NULL UNIQUE,
    subject text,
    valid_from timestamptz,
    valid_to timestamptz,
    added_at timestamptz NOT NULL,
    added_by text NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    revoked_reason text,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_from < valid_to)
);
CREATE INDEX counterparty_key_counterparty ON oson.counterparty_key (counterparty);

CREATE TABLE oson.document (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    direction text NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    status text NOT NULL CHECK (status IN ('sent', 'accepted', 'refused')),
    refusal_code text,
    counterparty text NOT NULL,
    doc_type text NOT NULL CHECK (doc_type IN ('register', 'statement', 'notice', 'other')),
    file_name text NOT NULL,
    media_type text NOT NULL,
    size bigint NOT NULL,
    content bytea,
    content_sha256 text NOT NULL,
    signature bytea,
    key_fingerprint text,
    counterparty_key_id uuid REFERENCES oson.counterparty_key (id),
    note text,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    request_id text,
    retain_until timestamptz NOT NULL,
    deleted_at timestamptz,
    deleted_by text,
    deleted_reason text,
    CHECK ((status = 'refused') = (refusal_code IS NOT NULL)),
    CHECK ((deleted_at IS NULL) OR (content IS NULL AND signature IS NULL))
);
CREATE INDEX document_recorded_at ON oson.document (recorded_at);
CREATE INDEX document_counterparty ON oson.document (counterparty, recorded_at);

-- The trail is never deleted; only the file and signature go, and only after the retention date.
CREATE FUNCTION oson.document_purge_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.deleted_at IS NOT NULL OR NEW.deleted_at IS NULL
            OR NEW.deleted_at < OLD.retain_until THEN
        RAISE EXCEPTION 'document % is kept until %: its record is never deleted', OLD.id, OLD.retain_until
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER document_purge_guard BEFORE UPDATE OR DELETE ON oson.document
    FOR EACH ROW EXECUTE FUNCTION oson.document_purge_guard();

-- Information-security incidents (§13.5-13.11) ----------------------------------------------------
CREATE TABLE oson.incident (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description text NOT NULL,
    category text NOT NULL CHECK (category IN ('vulnerability_exploitation', 'unauthorized_access',
        'denial_of_service', 'malware', 'unauthorized_transfer', 'stability_threat', 'other')),
    status text NOT NULL CHECK (status IN ('open', 'contained', 'resolved', 'closed')),
    affected_assets text,
    detected_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    response_plan text,
    response_plan_at timestamptz,
    response_plan_by text,
    nbk_reported_at timestamptz,
    nbk_reported_by text,
    nbk_reference text,
    measures text,
    corrective_actions text,
    retain_until timestamptz NOT NULL
);
CREATE INDEX incident_detected_at ON oson.incident (detected_at);

CREATE TABLE oson.incident_step (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES oson.incident (id),
    action text NOT NULL,
    status text NOT NULL,
    note text,
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL,
    by text NOT NULL
);
CREATE INDEX incident_step_incident ON oson.incident_step (incident_id, id);

-- AML/CFT (§XVI) ---------------------------------------------------------------------------------
CREATE TABLE oson.aml_list (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The list in force is the last one imported (by this number, whatever the clocks said).
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    source text NOT NULL,
    list_date date,
    format text NOT NULL CHECK (format IN ('csv', 'xml')),
    file_sha256 text NOT NULL,
    entries integer NOT NULL,
    imported_at timestamptz NOT NULL,
    imported_by text NOT NULL
);

CREATE TABLE oson.aml_list_entry (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    list_id uuid NOT NULL REFERENCES oson.aml_list (id),
    name text NOT NULL,
    name_key text NOT NULL,
    birth_date date,
    iin_bin text,
    identifiers jsonb NOT NULL DEFAULT '[]',
    reference text
);
CREATE INDEX aml_list_entry_name ON oson.aml_list_entry (list_id, name_key);
CREATE INDEX aml_list_entry_iin ON oson.aml_list_entry (list_id, iin_bin) WHERE iin_bin IS NOT NULL;

CREATE TABLE oson.aml_case (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    participant_id uuid NOT NULL REFERENCES oson.participant (id),
    kind text NOT NULL CHECK (kind IN ('list_match', 'suspicious')),
    status text NOT NULL CHECK (status IN ('frozen', 'under_control', 'open', 'released', 'closed')),
    list_id uuid REFERENCES oson.aml_list (id),
    list_entry_id bigint REFERENCES oson.aml_list_entry (id),
    operation_id uuid REFERENCES oson.operation (id),
    details jsonb NOT NULL DEFAULT '{}',
    opened_at timestamptz NOT NULL,
    opened_by text NOT NULL,
    released_at timestamptz,
    released_by text,
    release_reason text
);
-- Read by every debit (the freeze check): small and partial.
CREATE INDEX aml_case_in_force ON oson.aml_case (participant_id) WHERE status IN ('frozen', 'under_control');
CREATE INDEX aml_case_opened_at ON oson.aml_case (opened_at);

CREATE TABLE oson.aml_case_step (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES oson.aml_case (id),
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    reason text,
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL,
    by text NOT NULL
);
CREATE INDEX aml_case_step_case ON oson.aml_case_step (case_id, id);

CREATE TABLE oson.aml_report (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    case_id uuid NOT NULL REFERENCES oson.aml_case (id),
    operation_id uuid REFERENCES oson.operation (id),
    reason text NOT NULL,
    detected_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'sent')),
    sent_at timestamptz,
    sent_by text,
    reference text,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX aml_report_due ON oson.aml_report (due_at) WHERE status = 'queued';

-- Disputes (§XVIII) -----------------------------------------------------------------------------
CREATE TABLE oson.dispute (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    claimant_name text NOT NULL,
    participant_id uuid REFERENCES oson.participant (id),
    contact text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('post', 'email', 'in_person')),
    subject text NOT NULL,
    claim text NOT NULL,
    operation_id uuid REFERENCES oson.operation (id),
    received_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('registered', 'in_progress', 'redirected', 'answered')),
    answer text,
    answered_at timestamptz,
    answered_by text,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX dispute_due ON oson.dispute (due_at) WHERE status <> 'answered';

CREATE TABLE oson.dispute_step (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dispute_id uuid NOT NULL REFERENCES oson.dispute (id),
    action text NOT NULL,
    status text NOT NULL,
    note text,
    at timestamptz NOT NULL,
    by text NOT NULL
);
CREATE INDEX dispute_step_dispute ON oson.dispute_step (dispute_id, id);

-- Histories are append-only (oson.refuse_change comes from 0004).
CREATE TRIGGER incident_step_append_only BEFORE UPDATE OR DELETE ON oson.incident_step
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER aml_case_step_append_only BEFORE UPDATE OR DELETE ON oson.aml_case_step
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER dispute_step_append_only BEFORE UPDATE OR DELETE ON oson.dispute_step
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
CREATE TRIGGER incident_no_delete BEFORE DELETE ON oson.incident
    FOR EACH ROW EXECUTE FUNCTION oson.refuse_change();
"""

TABLES = ("dispute_step", "dispute", "aml_report", "aml_case_step", "aml_case", "aml_list_entry", "aml_list",
          "incident_step", "incident", "document", "counterparty_key")


def upgrade() -> None:
    op.execute(SCHEMA_SQL)
    role = _runtime_role()
    op.execute(f"GRANT SELECT, INSERT ON {', '.join('oson.' + t for t in TABLES)} TO {role}")
    op.execute(f"GRANT UPDATE (revoked_at, revoked_by, revoked_reason) ON oson.counterparty_key TO {role}")
    op.execute(f"GRANT UPDATE (content, signature, deleted_at, deleted_by, deleted_reason) ON oson.document "
               f"TO {role}")
    op.execute(f"GRANT UPDATE (category, status, response_plan, response_plan_at, response_plan_by, "
               f"nbk_reported_at, nbk_reported_by, nbk_reference, measures, corrective_actions) "
               f"ON oson.incident TO {role}")
    op.execute(f"GRANT UPDATE (status, released_at, released_by, release_reason) ON oson.aml_case TO {role}")
    op.execute(f"GRANT UPDATE (status, sent_at, sent_by, reference) ON oson.aml_report TO {role}")
    op.execute(f"GRANT UPDATE (status, answer, answered_at, answered_by) ON oson.dispute TO {role}")
    op.execute("UPDATE oson.app_meta SET value = '0006', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE oson.{table}")
    op.execute("DROP FUNCTION oson.document_purge_guard()")
    op.execute("UPDATE oson.app_meta SET value = '0005', updated_at = now() WHERE key = 'schema_version'")
