"""The read-only connection to a restored database, and errors that say what to do about it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

APPLICATION_NAME = "oson-operator-restore-check"
CONNECT_TIMEOUT_SECONDS = 10
_DRIVERS = {"postgresql", "postgres", "postgresql+psycopg"}
# SQLSTATE classes and codes after which nothing more can be read: the connection is gone
# (08, 57P), the login was refused (28), the database does not exist (3D), or it may not be read.
_UNAVAILABLE_CLASSES = ("08", "28", "3D", "57P")
INSUFFICIENT_PRIVILEGE = "42501"
_EXAMPLE = "postgresql://USER@HOST:PORT/DATABASE (or postgresql:///DATABASE?host=/var/run/postgresql)"


class RestoreCheckUnavailable(Exception):
    """The check cannot run (bad URL, no connection, login refused); the message says what to do."""


def parse_database_url(value: str) -> URL:
    """A SQLAlchemy URL for psycopg from a ``postgresql://`` URL; RestoreCheckUnavailable if it is not one."""
    try:
        url = make_url(value)
    except ArgumentError:
        raise RestoreCheckUnavailable(f"--database-url is not a database URL; expected {_EXAMPLE}") from None
    if url.drivername not in _DRIVERS:
        raise RestoreCheckUnavailable(f"--database-url {shown(url)}: not a PostgreSQL URL; expected {_EXAMPLE}")
    if not url.database:
        raise RestoreCheckUnavailable(f"--database-url {shown(url)} names no database; expected {_EXAMPLE}")
    return url.set(drivername="postgresql+psycopg")


def shown(url: URL) -> str:
    """The URL as the user wrote it, password hidden (for messages)."""
    return url.set(drivername=url.drivername.split("+")[0]).render_as_string(hide_password=True)


def restore_engine(url: URL) -> Engine:
    """An engine whose every transaction is read-only (``default_transaction_read_only``), unpooled."""
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": APPLICATION_NAME,
        "options": "-c default_transaction_read_only=on -c statement_timeout=0",
    }
    return create_engine(url, connect_args=args, poolclass=NullPool)


def first_line(exc: BaseException) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def is_unavailable(exc: DBAPIError) -> bool:
    """Whether no further check can run after ``exc`` (as opposed to one check's query failing)."""
    state = _sqlstate(exc)
    if exc.connection_invalidated or state == INSUFFICIENT_PRIVILEGE:
        return True
    if state is None:  # libpq failed before the server answered: connecting, or the link broke
        return type(exc.orig).__name__ == "OperationalError"
    return state.startswith(_UNAVAILABLE_CLASSES)


def unavailable(exc: DBAPIError, where: str) -> RestoreCheckUnavailable:
    """The message for a database error that stops the check, with the next step."""
    reason = first_line(exc)
    state = _sqlstate(exc)
    refused = ("password authentication failed", "no pg_hba.conf entry", "role \"")
    if state in ("28P01", "28000") or any(text in reason for text in refused):
        hint = ("check the user and password of --database-url (a password may also come from PGPASSWORD "
                "or ~/.pgpass) and the scratch instance's pg_hba.conf")
    elif state == "3D000" or ("does not exist" in reason and "database" in reason):
        hint = "check the database name in --database-url (`psql -l` lists the restored databases)"
    elif state == INSUFFICIENT_PRIVILEGE:
        return RestoreCheckUnavailable(
            f"{where}: the login may not read schema oson ({reason}); connect as the database owner, the "
            "service's runtime login or a superuser")
    elif state is None or state.startswith(("08", "57P")):
        hint = "is the scratch instance running? (check the host and port of --database-url, and pg_ctl status)"
    else:
        return RestoreCheckUnavailable(f"{where}: {reason}; see the scratch instance's PostgreSQL log")
    return RestoreCheckUnavailable(f"cannot connect to {where}: {reason}; {hint}")
