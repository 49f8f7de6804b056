"""A throwaway cluster on this machine: one PostgreSQL 15 and one operator service, both killable.

Used by the negative control and the drill tests, never by the lab. PostgreSQL runs from Debian's
binaries in a temporary directory on a free port (as the ``postgres`` system user when run as root,
since initdb refuses root); the service runs as ``python -m oson_operator serve`` with its settings in
the environment. Each runs in its own process group, so a power cut is one SIGKILL per group: no
process gets to shut down cleanly, which is what losing power does to them.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
import psycopg
from psycopg import sql

from appliance.drills.api import ClientCredentials, Endpoint, StaffCredentials

PG_BIN = Path(os.environ.get("OSON_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
OWNER, RUNTIME, DATABASE = "oson_owner", "oson_app", "oson"

# Same for both kinds of cluster: nothing in the background that would write or flush WAL on its own
# during a short drill (autovacuum's ring buffer and the background writer flush WAL before writing a
# page; a checkpoint flushes everything). Durability is then decided by the settings below alone.
QUIET = {
    "autovacuum": "off",
    "bgwriter_lru_maxpages": "0",
    "checkpoint_timeout": "30min",
    "max_wal_size": "2GB",
    "shared_buffers": "128MB",
    "max_connections": "60",
}
# What an appliance runs with (on one node): a commit returns once its WAL is on disk.
DURABLE = {"fsync": "on", "synchronous_commit": "on"}
# Deliberately weak: a commit returns before its WAL is written; the WAL writer writes full pages as
# they fill but the partly filled last page only every wal_writer_delay (10 s, the maximum), and
# flushes only then. A kill inside that window loses the commits on the last page.
WEAK = {"fsync": "on", "synchronous_commit": "off", "wal_writer_delay": "10000ms", "wal_writer_flush_after": "1GB"}


class LocalClusterError(RuntimeError):
    """The local cluster could not be started or driven; the message says what to check."""


def _ephemeral_ports() -> range:
    """The ports the kernel gives outgoing connections (their source ports)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii").split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port() -> int:
    """A port free on 127.0.0.1 now, below the ephemeral range when there is room: a port the kernel
    handed out would also be given to outgoing connections (the service's own, to PostgreSQL) in the
    seconds before the service binds it."""
    ephemeral = _ephemeral_ports()
    candidates = range(20000, ephemeral.start) if ephemeral.start > 21000 else range(0)
    for port in random.sample(candidates, min(len(candidates), 50)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The OS user PostgreSQL runs as: ``postgres`` when we are root (initdb refuses root), else us."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise LocalClusterError("running as root needs a 'postgres' system user (apt-get install postgresql-15 "
                                "creates it)") from None
    return "postgres"


def _kill_group(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _wait_group_gone(pgid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(0.02)


class _ProcessGroup:
    """A child started in its own session, so that a signal reaches it and every process it forked."""

    # The signal of a clean stop and how long it may take before the group is killed.
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def kill(self) -> None:
        """SIGKILL the whole group at once (what a power cut does to the processes)."""
        if self.process is None:
            return
        pgid = self.process.pid
        _kill_group(self.process)
        self.process.wait(timeout=10)
        _wait_group_gone(pgid)
        self._close_log()

    def stop(self) -> None:
        """A clean stop (``stop_signal``); killed if it takes longer than ``stop_timeout``."""
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        _kill_group(self.process, self.stop_signal)
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class LocalPostgres(_ProcessGroup):
    """One PostgreSQL 15 cluster in ``root/data``, listening on 127.0.0.1:``port`` and a socket in ``root``."""

    # A fast shutdown (SIGINT).
    stop_signal = signal.SIGINT
    stop_timeout = 20.0

    def __init__(self, root: Path, settings: Mapping[str, str], port: int | None = None) -> None:
        super().__init__()
        self.root = root
        self.settings = dict(settings)
        self.port = port or free_port()
        self.user = _server_user()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    def initdb(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise LocalClusterError(f"{PG_BIN}/initdb not found: apt-get install postgresql-15 "
                                    "(or set OSON_DRILL_PG_BIN)")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--no-instructions",
             "--auth-local=trust", "--auth-host=scram-sha-256"],
            capture_output=True, text=True, timeout=120, check=False, user=self.user)
        if result.returncode != 0:
            raise LocalClusterError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self, timeout: float = 60.0) -> float:
        """Start the postmaster (crash recovery runs first if it was killed); returns seconds until it accepts."""
        started = time.monotonic()
        options = [f"-c{name}={value}" for name, value in {"listen_addresses": "127.0.0.1", **self.settings}.items()]
        self._log = self.log.open("ab")
        self.process = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root), *options],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, user=self.user)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalClusterError(f"PostgreSQL exited ({self.process.returncode}); see {self.log}:\n"
                                        f"{self.log.read_text(errors='replace')[-3000:]}")
            try:
                with self.connect():
                    return time.monotonic() - started
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise LocalClusterError(f"PostgreSQL did not accept connections within {timeout} s; see {self.log}")

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname=dbname,
                               autocommit=True, connect_timeout=3)


class LocalService(_ProcessGroup):
    """``python -m oson_operator serve`` with ``env``; its own process group, so it can be SIGKILLed whole."""

    def __init__(self, env: Mapping[str, str], port: int, log: Path, python: str = sys.executable) -> None:
        super().__init__()
        self.env = dict(env)
        self.port = port
        self.log = log
        self.python = python

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until /api/health answers 200 (database reachable); returns the seconds it took."""
        started = time.monotonic()
        self._log = self.log.open("ab")
        self.process = subprocess.Popen([self.python, "-m", "oson_operator", "serve"], env=self.env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + timeout
        with httpx.Client(base_url=self.base_url, timeout=5) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise LocalClusterError(f"the operator service exited ({self.process.returncode}); see "
                                            f"{self.log}:\n{self.log.read_text(errors='replace')[-3000:]}")
                with suppress(httpx.HTTPError):
                    if http.get("/api/health").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.1)
        raise LocalClusterError(f"the operator service was not healthy within {timeout} s; see {self.log}")


class LocalCluster:
    """PostgreSQL + migrated schema + operator service + two staff users and an API client, all throwaway.

    ``durable`` picks the database settings (``DURABLE`` or ``WEAK``). Use as a context manager; on exit
    everything is stopped and the directory removed (unless ``keep``).
    """

    def __init__(self, *, durable: bool, root: Path | None = None, keep: bool = False,
                 python: str = sys.executable) -> None:
        self.durable = durable
        self.keep = keep
        self.python = python
        self._own_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="oson-drill-"))
        self.postgres = LocalPostgres(self.root, {**QUIET, **(DURABLE if durable else WEAK)})
        self.passwords = {OWNER: secrets.token_urlsafe(16), RUNTIME: secrets.token_urlsafe(16)}
        self.env_file = self.root / "operator.env"
        self.service_port = free_port()
        self.service = LocalService(self.service_env(), self.service_port, self.root / "operator.log", python)
        self.operator: StaffCredentials | None = None
        self.auditor: StaffCredentials | None = None
        self.client: ClientCredentials | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.service.base_url)

    def service_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("OSON_")}
        env.update({
            "OSON_ENV_FILE": str(self.env_file),
            "OSON_DATABASE_HOST": "127.0.0.1",
            "OSON_DATABASE_PORT": str(self.postgres.port),
            "OSON_DATABASE_NAME": DATABASE,
            "OSON_DATABASE_USER": RUNTIME,
            "OSON_DATABASE_PASSWORD": self.passwords[RUNTIME],
            "OSON_DATABASE_SSLMODE": "disable",
            "OSON_LOG_LEVEL": "warning",
            "OSON_WORKERS": "1",
            "OSON_BIND_HOST": "127.0.0.1",
            "OSON_BIND_PORT": str(self.service_port),
        })
        env.update(extra)
        return env

    # -- life cycle ----------------------------------------------------------------------------------
    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        self.env_file.write_text("# drill: every setting comes from the environment\n", encoding="utf-8")
        self.postgres.initdb()
        self.postgres.start()
        self._create_database()
        self._oson("oson_operator.migrate", "upgrade", "--json", OSON_DATABASE_OWNER_USER=OWNER,
                   OSON_DATABASE_OWNER_PASSWORD=self.passwords[OWNER])
        suffix = secrets.token_hex(3)
        operator = self._oson("oson_operator", "staff", "create", "--login", f"drill-op-{suffix}",
                              "--role", "operator", "--json")
        auditor = self._oson("oson_operator", "staff", "create", "--login", f"drill-au-{suffix}",
                             "--role", "auditor", "--json")
        client = self._oson("oson_operator", "api-clients", "create", "--name", f"drill-{suffix}", "--json")
        self.operator = StaffCredentials(str(operator["login"]), str(operator["temporary_password"]))
        self.auditor = StaffCredentials(str(auditor["login"]), str(auditor["temporary_password"]))
        self.client = ClientCredentials(str(client["client_id"]), str(client["client_secret"]))
        self.service.start()

    def power_cut(self) -> None:
        """Every process of the database and the service SIGKILLed, as a power loss would end them."""
        for process in (self.postgres.process, self.service.process):
            _kill_group(process)
        self.postgres.kill()
        self.service.kill()

    def restart(self) -> dict[str, float]:
        """Start the database (crash recovery) and then the service; seconds each took to be ready."""
        database = self.postgres.start()
        service = self.service.start()
        return {"database_ready_seconds": round(database, 2), "service_healthy_seconds": round(service, 2)}

    def close(self) -> None:
        self.service.stop()
        self.postgres.stop()
        if self._own_root and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------------
    def _create_database(self) -> None:
        with self.postgres.connect() as conn:
            for role in (OWNER, RUNTIME):
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(self.passwords[role])))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE),
                                                                     sql.Identifier(OWNER)))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE)))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(DATABASE),
                                                                            sql.Identifier(RUNTIME)))

    def _oson(self, module: str, *args: str, **env: str) -> dict[str, object]:
        """Run an ``oson-operator`` command against this cluster; the JSON object on its last line."""
        result = subprocess.run([self.python, "-m", module, *args], env=self.service_env(**env),
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise LocalClusterError(f"{module} {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        lines = result.stdout.strip().splitlines()
        return dict(json.loads(lines[-1])) if lines else {}
