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


def upgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0006', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE oson.app_meta SET value = '0005', updated_at = now() WHERE key = 'schema_version'")
