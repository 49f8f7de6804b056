"""Alembic environment: runs with the connection handed over by ``oson_operator.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlmodel import SQLModel

import oson_operator.storage.models  # noqa: F401 - registers the tables in SQLModel.metadata
from oson_operator.storage.models import SCHEMA

# Serializes concurrent migrators (two deploys at once): a session-level advisory lock.
MIGRATION_LOCK_KEY = 0x05_0A_0A_01

VERSION_TABLE = "alembic_version"


def run_migrations(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    try:
        # The version table lives in schema oson, so the schema must exist before Alembic looks.
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            version_table=VERSION_TABLE,
            version_table_schema=SCHEMA,
            include_schemas=True,
            transaction_per_migration=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: run against the database")

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise SystemExit("run migrations with oson-operator-migrate (it opens the owner connection)")
run_migrations(_connection)
