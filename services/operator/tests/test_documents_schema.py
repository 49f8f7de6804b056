"""Migration 0006 (documents, incidents, AML, disputes) goes down to 0005 and up again cleanly."""

from __future__ import annotations

from alembic import command
from conftest import DATABASE, REVISIONS, SCHEMA_HEAD, PostgresServer

from oson_operator.migrate import _owner_connection_engine, alembic_config, upgrade

CASE_TABLES = {"counterparty_key", "document", "incident", "incident_step", "aml_list", "aml_list_entry",
               "aml_case", "aml_case_step", "aml_report", "dispute", "dispute_step"}


def _tables(server: PostgresServer) -> set[str]:
    with server.superuser(DATABASE) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'oson'").fetchall()
    return {row[0] for row in rows}


def _version(server: PostgresServer) -> str:
    with server.superuser(DATABASE) as conn:
        row = conn.execute("SELECT value FROM oson.app_meta WHERE key = 'schema_version'").fetchone()
    assert row is not None
    return str(row[0])


def test_0006_downgrades_and_upgrades_again(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    assert _tables(running_pg) >= CASE_TABLES
    _, engine = _owner_connection_engine(settings)
    try:
        with engine.connect() as connection:
            config = alembic_config(settings, connection)
            command.downgrade(config, "0005")
            connection.commit()
    finally:
        engine.dispose()
    try:
        assert not CASE_TABLES & _tables(running_pg)
        assert _version(running_pg) == "0005"
    finally:
        # Leave the session's database at the head whatever happened above.
        result = upgrade(settings)
    assert result["applied"] == REVISIONS[REVISIONS.index("0006"):] and result["after"] == SCHEMA_HEAD
    assert _tables(running_pg) >= CASE_TABLES and _version(running_pg) == SCHEMA_HEAD
