"""Migration 0005 (saved queries, list and journal indexes) goes down to 0004 and up again, in a
database of its own so that the session's shared database is not touched."""

from __future__ import annotations

import secrets

from alembic import command
from conftest import DATABASE, OWNER, RUNTIME, PostgresServer
from psycopg import sql
from sqlalchemy import text

from oson_operator.migrate import _owner_connection_engine, alembic_config, upgrade


def test_0005_downgrades_and_upgrades_again(running_pg: PostgresServer) -> None:
    name = f"records_{secrets.token_hex(4)}"
    with running_pg.superuser() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name),
                                                                          sql.Identifier(RUNTIME)))
    try:
        settings = running_pg.settings(database_name=name)
        assert name != DATABASE
        upgrade(settings, "0005")
        _, engine = _owner_connection_engine(settings)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT to_regclass('oson.saved_query')")).scalar_one() is not None
                assert connection.execute(text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'operation_created_id'")).scalar_one() == 1
                config = alembic_config(settings, connection)
                command.downgrade(config, "0004")
                connection.commit()
                assert connection.execute(text("SELECT to_regclass('oson.saved_query')")).scalar_one() is None
                assert connection.execute(text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'operation_created_id'")).scalar_one() == 0
                assert connection.execute(text(
                    "SELECT value FROM oson.app_meta WHERE key = 'schema_version'")).scalar_one() == "0004"
        finally:
            engine.dispose()
        assert upgrade(settings, "0005")["applied"] == ["0005"]
    finally:
        with running_pg.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
