"""Fixtures: a real PostgreSQL 15 started from Debian's binaries in a temporary directory.

The server listens on 127.0.0.1 on a free port and on a unix socket in the same temporary
directory. initdb refuses to run as root, so under root (CI) every server command runs as the
``postgres`` system user (``runuser -u postgres --``) and the directory is chowned to it.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from oson_operator.migrate import upgrade
from oson_operator.settings import Settings

PG_BIN = Path(os.environ.get("OSON_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "oson_owner"
RUNTIME = "oson_app"
DATABASE = "oson"
# Every migration, in order; the last is what oson.app_meta records as schema_version.
REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]
SCHEMA_HEAD = REVISIONS[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in ``root/<name>``; superuser ``postgres`` trusted on the socket only."""

    root: Path
    name: str
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / self.name

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log(self) -> Path:
        return self.root / f"{self.name}.log"

    def run(self, *argv: str | Path) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else "(no log)"
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                f"server log:\n{log}"
            )
        return result

    def initdb(self) -> None:
        self.run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-E", "UTF8", "--no-instructions",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--data-checksums")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c shared_buffers=16MB")
        self.run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=5)

    def settings(self, **overrides: object) -> Settings:
        """Runtime settings for this server over TCP (no env file)."""
        values: dict[str, object] = {
            "database_host": "127.0.0.1",
            "database_port": self.port,
            "database_name": DATABASE,
            "database_user": RUNTIME,
            "database_password": SecretStr(PASSWORDS[RUNTIME]),
            "database_owner_user": OWNER,
            "database_owner_password": SecretStr(PASSWORDS[OWNER]),
            "database_sslmode": "disable",
            "health_timeout_seconds": 4.0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]


# Random per run; the quote and dollar check that nothing on the way mangles them.
PASSWORDS = {OWNER: f"o'{secrets.token_urlsafe(12)}$x", RUNTIME: f"a\"{secrets.token_urlsafe(12)}#y"}


@pytest.fixture(scope="session")
def pg_root() -> Iterator[Path]:
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"{PG_BIN}/initdb not found: apt-get install postgresql-15")
    root = Path(tempfile.mkdtemp(prefix="oson-operator-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(pg_root: Path) -> Iterator[PostgresServer]:
    """The primary, with the roles and database the postgresql role creates in the appliance."""
    server = PostgresServer(pg_root, "primary")
    server.initdb()
    server.start()
    try:
        with server.superuser() as conn:
            for role in (OWNER, RUNTIME):
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(PASSWORDS[role])))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DATABASE), sql.Identifier(OWNER)))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE)))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(DATABASE), sql.Identifier(RUNTIME)))
        yield server
    finally:
        if server.is_running():
            server.stop("immediate")


@pytest.fixture(scope="session")
def first_upgrade(pg: PostgresServer) -> dict[str, object]:
    """The result of the very first ``upgrade`` against the fresh database."""
    return upgrade(pg.settings())


@pytest.fixture()
def running_pg(pg: PostgresServer, first_upgrade: dict[str, object]) -> PostgresServer:
    """The migrated primary, started again if an earlier test left it stopped."""
    if not pg.is_running():
        pg.start()
    return pg


def wait_until(predicate: object, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False
