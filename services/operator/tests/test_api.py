"""The HTTP API against the real database: live, health (primary, standby, down, silent), openapi."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from business_support import open_desk
from conftest import DATABASE, PG_BIN, SCHEMA_HEAD, PostgresServer, free_port, wait_until
from fastapi.testclient import TestClient
from psycopg import sql

from oson_operator import __version__
from oson_operator.api import create_app
from oson_operator.settings import Settings
from oson_operator.storage.engine import APPLICATION_NAME


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def test_live_is_200_without_a_database() -> None:
    settings = Settings(database_host="127.0.0.1", database_port=free_port(), database_sslmode="disable")
    with client_for(settings) as client:
        response = client.get("/api/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_reports_the_primary(running_pg: PostgresServer) -> None:
    with client_for(running_pg.settings()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "database": {
            "reachable": True,
            "role": "primary",
            "server": f"127.0.0.1:{running_pg.port}",
            "schema_version": SCHEMA_HEAD,
            "error": None,
            "detail": None,
        },
    }


def test_health_is_503_when_nothing_listens() -> None:
    settings = Settings(database_host="127.0.0.1", database_port=free_port(), database_sslmode="disable",
                        database_password="x")
    with client_for(settings) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"]["reachable"] is False
    assert body["database"]["error"] == "OperationalError"
    assert body["database"]["role"] is None


@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database or proxy)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def test_health_does_not_hang_on_a_silent_server(silent_server: int) -> None:
    settings = Settings(database_host="127.0.0.1", database_port=silent_server, database_sslmode="disable",
                        database_connect_timeout=2, health_timeout_seconds=3.0)
    with client_for(settings) as client:
        started = time.monotonic()
        response = client.get("/api/health")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["database"]["reachable"] is False
    assert elapsed < 3.8, f"/api/health took {elapsed:.1f} s"


def test_health_follows_the_database_down_and_up(running_pg: PostgresServer) -> None:
    with client_for(running_pg.settings()) as client:
        assert client.get("/api/health").status_code == 200
        running_pg.stop()
        try:
            response = client.get("/api/health")
            assert response.status_code == 503
            assert response.json()["database"]["reachable"] is False
            assert response.json()["database"]["error"] == "OperationalError"
        finally:
            running_pg.start()
        # The pooled connection died with the server; the pre-ping replaces it.
        assert client.get("/api/health").status_code == 200


def test_a_connection_the_database_closed_while_pooled_is_replaced_not_failed(running_pg: PostgresServer) -> None:
    """After a failover HAProxy cuts every session to the old primary, and the pooled connections are dead
    before their next use. The request that checks one out gets a fresh one instead of a 503."""
    with open_desk(running_pg.settings()) as desk:
        desk.get("/api/operations", limit=1)
        with running_pg.superuser(DATABASE) as admin:
            cut = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = %s", [APPLICATION_NAME]).fetchone()
            assert cut is not None and cut[0] >= 1
            assert wait_until(lambda: admin.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                                    "= %s", [APPLICATION_NAME]).fetchone() == (0,), timeout=10)
        answers = [desk.client.get("/api/operations", params={"limit": 1}, headers=desk.headers) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 200], answers[0].text


def test_health_is_503_when_the_schema_is_not_migrated(running_pg: PostgresServer) -> None:
    with running_pg.superuser() as conn:
        conn.execute("DROP DATABASE IF EXISTS oson_unmigrated")
        conn.execute(sql.SQL("CREATE DATABASE oson_unmigrated OWNER oson_owner"))
    with client_for(running_pg.settings(database_name="oson_unmigrated")) as client:
        response = client.get("/api/health")
    assert response.status_code == 503
    database = response.json()["database"]
    assert database["reachable"] is True
    assert database["role"] == "primary"
    assert database["schema_version"] is None
    assert database["error"] == "UndefinedTable"
    assert "oson-operator-migrate" in database["detail"]


@pytest.fixture()
def standby(running_pg: PostgresServer, pg_root: Path) -> Iterator[PostgresServer]:
    """A streaming standby of the primary, made with pg_basebackup -R."""
    server = PostgresServer(pg_root, "standby")
    running_pg.run(PG_BIN / "pg_basebackup",
                   "-h", running_pg.socket_dir, "-p", str(running_pg.port), "-U", "postgres",
                   "-D", server.data, "-R", "-X", "stream", "-c", "fast")
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")


def test_health_reports_a_standby(standby: PostgresServer) -> None:
    with client_for(standby.settings()) as client:
        response = client.get("/api/health")
    assert response.status_code == 200, response.text
    database = response.json()["database"]
    assert database["role"] == "standby"
    assert database["server"] == f"127.0.0.1:{standby.port}"
    assert database["schema_version"] == SCHEMA_HEAD


def test_openapi_is_published() -> None:
    settings = Settings(database_port=free_port(), database_sslmode="disable")
    with client_for(settings) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["version"] == __version__
    assert {"/api/live", "/api/health"} <= set(document["paths"])
    assert "503" in document["paths"]["/api/health"]["get"]["responses"]


def test_console_script_serves_with_production_settings(running_pg: PostgresServer, tmp_path: Path) -> None:
    """``oson-operator`` with an env file: two uvicorn workers, health 200 over real HTTP."""
    port = free_port()
    settings = running_pg.settings()
    env_file = tmp_path / "operator.env"
    env_file.write_text(
        "# written like the operator role does\n"
        f"OSON_DATABASE_HOST=127.0.0.1\nOSON_DATABASE_PORT={running_pg.port}\nOSON_DATABASE_NAME={DATABASE}\n"
        f"OSON_DATABASE_USER={settings.database_user}\n"
        f"OSON_DATABASE_PASSWORD={settings.database_password.get_secret_value()}\n"
        f"OSON_DATABASE_SSLMODE=disable\nOSON_BIND_HOST=127.0.0.1\nOSON_BIND_PORT={port}\nOSON_WORKERS=2\n"
        "OSON_FORWARDED_ALLOW_IPS=127.0.0.1\nOSON_LOG_LEVEL=warning\n"
    )
    script = Path(sys.executable).parent / "oson-operator"
    check = subprocess.run([str(script), "check-config", str(env_file)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    assert "2 worker(s)" in check.stdout
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OSON_ENV_FILE": str(env_file)}
    process = subprocess.Popen([str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def live() -> bool:
            try:
                return httpx.get(f"{base}/api/live", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(live, timeout=30), "oson-operator did not come up"
        response = httpx.get(f"{base}/api/health", timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["database"]["role"] == "primary"
        assert "server" not in response.headers
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output
