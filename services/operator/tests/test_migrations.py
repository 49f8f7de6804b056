"""Migrations against the real database: applied once, idempotent, runtime login read-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from conftest import DATABASE, OWNER, PASSWORDS, REVISIONS, RUNTIME, SCHEMA_HEAD, PostgresServer
from psycopg import errors

from oson_operator.migrate import current, upgrade


def test_first_upgrade_applies_every_migration(first_upgrade: dict[str, object]) -> None:
    assert first_upgrade == {"before": None, "after": SCHEMA_HEAD, "applied": REVISIONS}


def test_second_upgrade_is_a_no_op(running_pg: PostgresServer) -> None:
    assert upgrade(running_pg.settings()) == {"before": SCHEMA_HEAD, "after": SCHEMA_HEAD, "applied": []}
    assert current(running_pg.settings()) == SCHEMA_HEAD


def test_schema_objects_and_seed(running_pg: PostgresServer) -> None:
    with running_pg.superuser(DATABASE) as conn:
        owner = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'oson'"
        ).fetchone()
        assert owner == (OWNER,)
        rows = conn.execute("SELECT key, value, updated_at IS NOT NULL FROM oson.app_meta").fetchall()
        assert rows == [("schema_version", SCHEMA_HEAD, True)]
        table_owner = conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'oson' "
                                   "AND tablename = 'app_meta'").fetchone()
        assert table_owner == (OWNER,)
        assert conn.execute("SELECT version_num FROM oson.alembic_version").fetchall() == [(SCHEMA_HEAD,)]


def _runtime(server: PostgresServer) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, dbname=DATABASE, user=RUNTIME,
                           password=PASSWORDS[RUNTIME], autocommit=True, sslmode="disable")


def test_runtime_login_reads_app_meta(running_pg: PostgresServer) -> None:
    with _runtime(running_pg) as conn:
        value = conn.execute("SELECT value FROM oson.app_meta WHERE key = 'schema_version'").fetchone()
        assert value == (SCHEMA_HEAD,)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO oson.app_meta (key, value) VALUES ('x', 'y')",
        "UPDATE oson.app_meta SET value = 'tampered'",
        "DELETE FROM oson.app_meta",
        "TRUNCATE oson.app_meta",
        "CREATE TABLE oson.intruder (id int)",
        "DROP TABLE oson.app_meta",
    ],
)
def test_runtime_login_cannot_write(running_pg: PostgresServer, statement: str) -> None:
    with _runtime(running_pg) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)  # type: ignore[arg-type]


def _migrate_cli(server: PostgresServer, *args: str, owner_password: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OSON_ENV_FILE": "/nonexistent/operator.env",
        "OSON_DATABASE_HOST": "127.0.0.1",
        "OSON_DATABASE_PORT": str(server.port),
        "OSON_DATABASE_SSLMODE": "disable",
        "OSON_DATABASE_OWNER_USER": OWNER,
        "OSON_DATABASE_OWNER_PASSWORD": owner_password,
    }
    return subprocess.run([sys.executable, "-m", "oson_operator.migrate", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_migrate_cli_reports_json_and_nothing_applied(running_pg: PostgresServer) -> None:
    result = _migrate_cli(running_pg, "upgrade", "--json", owner_password=PASSWORDS[OWNER])
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"before": SCHEMA_HEAD, "after": SCHEMA_HEAD, "applied": []}
    result = _migrate_cli(running_pg, "current", "--json", owner_password=PASSWORDS[OWNER])
    assert json.loads(result.stdout) == {"current": SCHEMA_HEAD}


def test_migrate_cli_explains_a_refused_login(running_pg: PostgresServer) -> None:
    result = _migrate_cli(running_pg, "upgrade", "--json", owner_password="wrong")
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "Next: the login was refused" in result.stderr
    assert "Traceback" not in result.stderr
