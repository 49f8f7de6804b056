"""A throw-away PostgreSQL 15 for benchmarks: initdb in a temporary directory, start, stop, remove.

Like the tests' server (Debian's binaries, 127.0.0.1 on a free port, a unix socket in the same
directory); under root every server command runs as the ``postgres`` system user, since initdb
refuses to run as root. Unlike the tests' server it keeps fsync on, so timings are honest.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN = Path(os.environ.get("OSON_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BenchServer:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def run(self, *argv: str | Path) -> None:
        command = [str(a) for a in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=5)


@contextmanager
def bench_server(*, roles: dict[str, str], database: str, owner: str, runtime: str) -> Iterator[BenchServer]:
    """A running server with login ``roles`` (name: password) and ``database`` owned by ``owner``."""
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"{PG_BIN}/initdb not found: apt-get install postgresql-15")
    root = Path(tempfile.mkdtemp(prefix="oson-bench-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = BenchServer(root, _free_port())
    started = False
    try:
        server.run(PG_BIN / "initdb", "-D", server.data, "-U", "postgres", "-E", "UTF8", "--no-instructions",
                   "--auth-local=trust", "--auth-host=scram-sha-256")
        options = (f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB "
                   "-c max_wal_size=2GB -c work_mem=16MB")
        server.run(PG_BIN / "pg_ctl", "-D", server.data, "-l", root / "server.log", "-o", options, "-w", "start")
        started = True
        with server.superuser() as conn:
            for role, password in roles.items():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role),
                                                                                sql.Literal(password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database),
                                                                       sql.Identifier(owner)))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database),
                                                                              sql.Identifier(runtime)))
        yield server
    finally:
        if started:
            with suppress(RuntimeError):
                server.run(PG_BIN / "pg_ctl", "-D", server.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
