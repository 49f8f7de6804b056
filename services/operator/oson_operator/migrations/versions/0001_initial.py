"""Initial schema: oson.app_meta, readable by the runtime login.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00+00:00

The runtime login (``oson_app``) is deliberately not the owner of anything: it gets USAGE on
the schema and SELECT on this table only. Later migrations rely on that to make the event log
append-only (INSERT and SELECT granted, UPDATE/DELETE/TRUNCATE never).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


def upgrade() -> None:
    op.execute("REVOKE ALL ON SCHEMA oson FROM PUBLIC")
    op.create_table(
        "app_meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="oson",
    )
    op.execute("INSERT INTO oson.app_meta (key, value) VALUES ('schema_version', '0001')")
    role = _runtime_role()
    op.execute(f"GRANT USAGE ON SCHEMA oson TO {role}")
    op.execute(f"GRANT SELECT ON TABLE oson.app_meta TO {role}")


def downgrade() -> None:
    role = _runtime_role()
    op.execute(f"REVOKE ALL ON TABLE oson.app_meta FROM {role}")
    op.execute(f"REVOKE USAGE ON SCHEMA oson FROM {role}")
    op.drop_table("app_meta", schema="oson")
