"""Staff users, sessions, API clients.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


def upgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0003', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0002', updated_at = now() WHERE key = 'schema_version'")
