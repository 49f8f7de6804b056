"""Database probe behind ``/api/health``: which server answered, in which role, at which schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, ProgrammingError, SQLAlchemyError
from sqlmodel import Session

from oson_operator.storage.repository import AppMetaRepository

DatabaseRole = Literal["primary", "standby"]


@dataclass(frozen=True)
class ProbeResult:
    reachable: bool
    role: DatabaseRole | None = None
    server: str | None = None
    schema_version: str | None = None
    error: str | None = None
    detail: str | None = None
    stale_connection: bool = False

    @property
    def healthy(self) -> bool:
        return self.reachable and self.schema_version is not None and self.error is None


def _error_class(exc: BaseException) -> str:
    """The most specific class name: the driver's (e.g. OperationalError) rather than SQLAlchemy's."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return type(exc.orig).__name__
    return type(exc).__name__


def _first_line(exc: BaseException) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def probe_database(engine: Engine) -> ProbeResult:
    """Connect, ask the server who it is, read the schema version. Never raises for database errors.

    A pooled connection that died since its last use (server restart, failover) is retried once on a
    fresh connection, so health reflects the database now, not a stale socket.
    """
    result = _probe(engine)
    if result.stale_connection:
        result = _probe(engine)
    return result


def _probe(engine: Engine) -> ProbeResult:
    try:
        with Session(engine) as session:
            row = session.execute(
                text("SELECT pg_is_in_recovery(), host(inet_server_addr()), inet_server_port()")
            ).one()
            in_recovery, address, port = bool(row[0]), row[1], row[2]
            role: DatabaseRole = "standby" if in_recovery else "primary"
            # A unix-socket connection has no server address; name the port at least.
            server = f"{address}:{port}" if address is not None else f"local:{port or '?'}"
            try:
                version = AppMetaRepository(session).schema_version()
            except ProgrammingError as exc:  # table missing or not readable
                return ProbeResult(
                    reachable=True,
                    role=role,
                    server=server,
                    error=_error_class(exc),
                    detail="schema not migrated or not readable: run oson-operator-migrate upgrade "
                    f"({_first_line(exc)})",
                )
            if version is None:
                return ProbeResult(
                    reachable=True,
                    role=role,
                    server=server,
                    error="SchemaVersionMissing",
                    detail="oson.app_meta has no schema_version: run oson-operator-migrate upgrade",
                )
            return ProbeResult(reachable=True, role=role, server=server, schema_version=version)
    except SQLAlchemyError as exc:
        stale = isinstance(exc, DBAPIError) and exc.connection_invalidated
        return ProbeResult(reachable=False, error=_error_class(exc), detail=_first_line(exc), stale_connection=stale)
    except OSError as exc:
        return ProbeResult(reachable=False, error=type(exc).__name__, detail=str(exc))
