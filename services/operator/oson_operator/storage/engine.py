"""Engine and session factory for the ``oson`` database (SQLAlchemy 2 + psycopg 3)."""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

from oson_operator.settings import Settings

APPLICATION_NAME = "oson-operator"
# Key of the per-connection list of server notices (e.g. "canceling wait for synchronous replication").
NOTICES_KEY = "oson_notices"


def database_url(settings: Settings, *, user: str | None = None, password: SecretStr | None = None) -> URL:
    """The SQLAlchemy URL for the runtime login (or the given one); the password is escaped by URL."""
    return URL.create(
        "postgresql+psycopg",
        username=user or settings.database_user,
        password=(password or settings.database_password).get_secret_value() or None,
        host=settings.database_host,
        port=settings.database_port,
        database=settings.database_name,
    )


def connect_args(settings: Settings, *, application_name: str = APPLICATION_NAME) -> dict[str, Any]:
    """libpq parameters: short timeouts so that a dead or silent database never hangs a request."""
    args: dict[str, Any] = {
        "connect_timeout": settings.database_connect_timeout,
        "application_name": application_name,
        "sslmode": settings.database_sslmode,
        "options": f"-c statement_timeout={settings.database_statement_timeout_ms}",
        # Detect a peer that vanished without closing the connection (failover, cable pull).
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 3,
        "keepalives_count": 3,
        "tcp_user_timeout": max(settings.database_connect_timeout * 1000, 3000),
    }
    if settings.database_sslrootcert is not None:
        args["sslrootcert"] = str(settings.database_sslrootcert)
    return args


def create_database_engine(
    settings: Settings,
    *,
    user: str | None = None,
    password: SecretStr | None = None,
    application_name: str = APPLICATION_NAME,
    pooled: bool = True,
) -> Engine:
    """A pooled engine. Connections are not pinged before use (a round trip per request); a connection
    the other end has closed while it sat in the pool (a failover: HAProxy cuts the old primary's
    sessions; a server restart) is replaced at checkout without a round trip (``closed_by_peer``). One
    that dies during a request fails it with a disconnect error, SQLAlchemy then discards the whole
    pool, and the client's retry (same idempotency key) runs on a fresh connection."""
    url = database_url(settings, user=user, password=password)
    args = connect_args(settings, application_name=application_name)
    if not pooled:
        from sqlalchemy.pool import NullPool

        return create_engine(url, connect_args=args, poolclass=NullPool)
    engine = create_engine(
        url,
        connect_args=args,
        # No overflow: a connection opened and closed per request costs a SCRAM handshake on both sides.
        # The API caps its worker threads at the pool size, so requests queue before the pool, not in it.
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=max(settings.database_connect_timeout, 10),
        pool_recycle=300,
    )
    event.listen(engine, "connect", _collect_notices)
    event.listen(engine, "checkout", _replace_if_closed_by_peer)
    return engine


def closed_by_peer(dbapi_connection: Any) -> bool:
    """Whether the other end has closed this idle connection. Nothing is due on an idle connection, so
    a readable socket means its end: EOF, or the server's FATAL message before it. One poll, no wait."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    return bool(readable)


def _replace_if_closed_by_peer(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Checkout hook: SQLAlchemy discards a connection refused here and checks out another."""
    if closed_by_peer(dbapi_connection):
        raise DisconnectionError("the database closed this pooled connection while it was idle")


def _collect_notices(dbapi_connection: Any, connection_record: Any) -> None:
    """Keep the server's notices per connection, so a commit can tell "committed but not replicated"."""
    notices: list[str] = []
    connection_record.info[NOTICES_KEY] = notices
    dbapi_connection.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
