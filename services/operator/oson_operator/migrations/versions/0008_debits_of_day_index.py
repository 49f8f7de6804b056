"""The payer's debits of the day: an index that only holds them, so its plan does not hang on statistics.

Every payment, transfer and redemption sums the payer's completed debits of the operational day
(the daily limit, §6.1). The index of 0004 on (payer_account, operational_day) for completed
operations also holds issuances, whose payer is always the specialized account; while the table's
statistics still show only issuances (a new installation, before autovacuum analyses it) the planner
judged that index useless and scanned every operation of those kinds instead, so the sum grew with the
table. This index holds only the rows the sum reads (with their amount, for an index-only scan),
so the planner takes it whatever the statistics say. It replaces the index of 0004, which no other
query could use (every reader of it filters on the kind too).

It also drops ``operation_created_at`` (0004): ``operation_created_id`` (0005, on created_at and id)
serves every query it served, and every operation written paid for both.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEBIT_KINDS = "('payment', 'transfer', 'redemption')"


def upgrade() -> None:
    # CONCURRENTLY: on a table of millions of operations a plain CREATE INDEX would hold every payment
    # for the length of the build. A build interrupted earlier leaves an invalid index: dropped first.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS oson.operation_debits_of_day")
        op.execute("CREATE INDEX CONCURRENTLY operation_debits_of_day ON oson.operation (payer_account, "
                   f"operational_day) INCLUDE (amount) WHERE status = 'completed' AND kind IN {DEBIT_KINDS}")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS oson.operation_payer_day")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS oson.operation_created_at")
    op.execute("UPDATE oson.app_meta SET value = '0008', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS operation_payer_day ON oson.operation "
                   "(payer_account, operational_day) WHERE status = 'completed'")
        op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS operation_created_at ON oson.operation (created_at)")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS oson.operation_debits_of_day")
    op.execute("UPDATE oson.app_meta SET value = '0007', updated_at = now() WHERE key = 'schema_version'")
