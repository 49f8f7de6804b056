"""Back office records: saved queries, report runs (search, journals, reports).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0005', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0004', updated_at = now() WHERE key = 'schema_version'")
