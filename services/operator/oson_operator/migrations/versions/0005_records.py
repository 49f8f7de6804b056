"""Back office records: saved queries, and the indexes of search, journals and reports.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 00:00:00+00:00

Every sort of a list pages with a keyset on (sort column, key): each sort that must stay fast on
millions of rows has an index on exactly that pair. Journals read entries by operational day, and
"as of" balances sum an account's entries up to a time (covering index, no heap visits).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


INDEXES = {
    "operation_created_id": "oson.operation (created_at, id)",
    "operation_amount_id": "oson.operation (amount, id)",
    "operation_day_id": "oson.operation (operational_day, id)",
    "operation_kind_created_id": "oson.operation (kind, created_at, id)",
    "operation_payer_created_id": "oson.operation (payer_account, created_at, id)",
    "ledger_entry_day_id": "oson.ledger_entry (operational_day, id)",
    "ledger_entry_created_id": "oson.ledger_entry (created_at, id)",
    "ledger_entry_account_created": "oson.ledger_entry (account_id, created_at) INCLUDE (amount)",
    "ledger_entry_account_day": "oson.ledger_entry (account_id, operational_day) INCLUDE (amount)",
    "participant_created_id": "oson.participant (created_at, id)",
    "participant_name_id": "oson.participant (name, id)",
    "participant_change_at": "oson.participant_change (participant_id, field, changed_at)",
    "account_created_id": "oson.account (created_at, id) WHERE kind = 'wallet'",
    "account_change_at": "oson.account_change (account_id, changed_at)",
    "event_actor_started": "oson.event (actor, started_at, id)",
    "event_action_started": "oson.event (action, started_at, id)",
}

SAVED_QUERY = """
CREATE TABLE oson.saved_query (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner text NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    list_name text NOT NULL,
    query jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (owner, name)
);
COMMENT ON TABLE oson.saved_query IS 'Search queries kept by staff users (§14.1(4)); each sees only their own';
"""


def upgrade() -> None:
    op.execute(SAVED_QUERY)
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {target}")
    op.execute(f"GRANT SELECT, INSERT, DELETE ON oson.saved_query TO {_runtime_role()}")
    op.execute("UPDATE oson.app_meta SET value = '0005', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX oson.{name}")
    op.execute("DROP TABLE oson.saved_query")
    op.execute("UPDATE oson.app_meta SET value = '0004', updated_at = now() WHERE key = 'schema_version'")
