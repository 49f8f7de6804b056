"""Staff users, sessions, API clients.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 00:00:00+00:00

Secrets are never stored in the clear: staff passwords as argon2id hashes, session tokens and API
client secrets (32 random bytes each) as SHA-256. The runtime login may read, add and update these
rows; it may delete only what is disposable by design (old password-history entries and login
failures older than the source-block window). Staff users are disabled, never deleted.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "oson"


def _runtime_role() -> str:
    """The runtime login, quoted; passed by oson-operator-migrate from OSON_DATABASE_USER."""
    name = op.get_context().config.attributes["runtime_user"]
    return op.get_bind().dialect.identifier_preparer.quote(name)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_user",
        sa.Column("login", sa.Text(), primary_key=True),
        sa.Column("full_name", sa.Text(), nullable=False, server_default=""),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _at("password_changed_at"),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        _at("locked_until", nullable=True),
        _at("disabled_at", nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_pending_secret", sa.Text(), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        _at("created_at"),
        sa.Column("created_by", sa.Text(), nullable=False),
        _at("updated_at"),
        _at("last_login_at", nullable=True),
        sa.CheckConstraint("role IN ('admin', 'operator', 'auditor')", name="staff_user_role"),
        sa.CheckConstraint(r"login ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$'", name="staff_user_login"),
        sa.CheckConstraint("failed_logins >= 0", name="staff_user_failed_logins"),
        schema=SCHEMA,
    )
    # Logins differ by more than case: "Admin" and "admin" cannot both exist.
    op.execute("CREATE UNIQUE INDEX staff_user_login_ci ON oson.staff_user (lower(login))")

    op.create_table(
        "staff_password_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("login", sa.Text(), sa.ForeignKey("oson.staff_user.login"), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        _at("set_at"),
        schema=SCHEMA,
    )
    op.create_index("staff_password_history_login", "staff_password_history", ["login", "id"], schema=SCHEMA)

    op.create_table(
        "staff_session",
        sa.Column("id", sa.Text(), primary_key=True),  # public id (logs, Principal.session_id)
        sa.Column("token_hash", sa.Text(), nullable=False, unique=True),  # SHA-256 hex of the bearer token
        sa.Column("login", sa.Text(), sa.ForeignKey("oson.staff_user.login"), nullable=False),
        _at("created_at"),
        _at("last_seen_at"),
        _at("ended_at", nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),  # logout, idle, password_changed, ...
        sa.Column("source_address", sa.Text(), nullable=True),
        schema=SCHEMA,
    )
    op.execute("CREATE INDEX staff_session_open ON oson.staff_session (login) WHERE ended_at IS NULL")

    op.create_table(
        "login_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("source_address", sa.Text(), nullable=False),
        sa.Column("login", sa.Text(), nullable=False),  # as typed (lower case), known or not
        _at("failed_at"),
        schema=SCHEMA,
    )
    op.create_index("login_failure_source", "login_failure", ["source_address", "failed_at"], schema=SCHEMA)

    op.create_table(
        "source_block",
        sa.Column("source_address", sa.Text(), primary_key=True),
        _at("blocked_at"),
        _at("blocked_until"),
        sa.Column("logins", sa.Integer(), nullable=False),
        schema=SCHEMA,
    )

    op.create_table(
        "api_client",
        sa.Column("client_id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("participant_id", sa.Text(), nullable=True),
        sa.Column("secret_hash", sa.Text(), nullable=False),  # SHA-256 hex of the 32-byte secret
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        _at("blocked_at", nullable=True),
        _at("secret_generated_at"),
        _at("last_used_at", nullable=True),
        _at("created_at"),
        sa.Column("created_by", sa.Text(), nullable=False),
        _at("updated_at"),
        sa.CheckConstraint("status IN ('active', 'blocked')", name="api_client_status"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="api_client_name"),
        schema=SCHEMA,
    )
    # One client id per integration (seed 003 §1.2.1): names are unique regardless of case.
    op.execute("CREATE UNIQUE INDEX api_client_name_ci ON oson.api_client (lower(name))")

    role = _runtime_role()
    for table in ("staff_user", "staff_session", "api_client", "source_block"):
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON TABLE oson.{table} TO {role}")
    for table in ("staff_password_history", "login_failure"):
        op.execute(f"GRANT SELECT, INSERT, DELETE ON TABLE oson.{table} TO {role}")
    op.execute("UPDATE oson.app_meta SET value = '0003', updated_at = now() WHERE key = 'schema_version'")


def downgrade() -> None:
    role = _runtime_role()
    for table in ("api_client", "source_block", "login_failure", "staff_session", "staff_password_history",
                  "staff_user"):
        op.execute(f"REVOKE ALL ON TABLE oson.{table} FROM {role}")
        op.drop_table(table, schema=SCHEMA)
    op.execute("UPDATE oson.app_meta SET value = '0002', updated_at = now() WHERE key = 'schema_version'")
