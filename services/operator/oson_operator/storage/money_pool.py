"""Database connections used from the event loop, for the money lane's one-statement payments.

Why: a payment served by a worker thread costs two hand-offs between the event loop and the thread,
and every statement it waits for makes the threads contend for the interpreter lock: together about
a fifth of the service's CPU per payment. Served from the event loop on psycopg's async connections,
the same two statements cost none of that.

The pool is psycopg_pool's, with the sync engine's connection settings (``engine.connect_args``):
autocommit, server notices kept per connection (a commit that the synchronous standby did not confirm
must not be answered "ok"), and a connection the server closed while it sat idle (a failover) replaced
at checkout without a round trip (``engine.closed_by_peer``). Nothing here is required: when no
connection comes within ``CHECKOUT_TIMEOUT`` (database down, pool still reconnecting, an overload), or
the pool is off (``database_money_pool_size`` 0), the payment takes the worker threads' path as before.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from oson_operator.settings import Settings
from oson_operator.storage.engine import closed_by_peer, connect_args

APPLICATION_NAME = "oson-operator-money"
# How long a payment waits for a connection before it takes the worker threads' path instead. Short:
# a wait this long means the database is away or overloaded, and the threads' path answers that.
CHECKOUT_TIMEOUT = 1.0
# How long one lost connection is retried (backing off from 1 s) before its slot is given up; a slot
# given up is reopened by the next payment that finds no connection. Short, so that after a failover
# the pool is back within seconds instead of after a long back-off.
RECONNECT_TIMEOUT = 4.0


class MoneyConnection(psycopg.AsyncConnection[Any]):
    """An async connection that keeps its server notices and one cursor (creating a cursor copies the
    connection's adapters: kept, as ``storage.driver`` keeps the sync one)."""

    notices: list[str]
    kept_cursor: psycopg.AsyncCursor[Any] | None = None


class MoneyPool:
    """Async autocommit connections; ``connection()`` yields one, or None when none comes in time."""

    def __init__(self, settings: Settings) -> None:
        size = settings.database_money_pool_size
        kwargs: dict[str, Any] = {
            **connect_args(settings, application_name=APPLICATION_NAME),
            "host": settings.database_host, "port": settings.database_port, "dbname": settings.database_name,
            "user": settings.database_user, "password": settings.database_password.get_secret_value() or None,
            "autocommit": True,
        }
        self._pool: AsyncConnectionPool[MoneyConnection] = AsyncConnectionPool(
            connection_class=MoneyConnection, kwargs=kwargs, min_size=size, max_size=size, open=False, name="money",
            timeout=CHECKOUT_TIMEOUT, configure=_configure, reconnect_timeout=RECONNECT_TIMEOUT)

    async def open(self) -> None:
        """Start connecting in the background (the service starts even while the database is away)."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close(timeout=5)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[MoneyConnection | None]:
        deadline = time.monotonic() + CHECKOUT_TIMEOUT
        while True:
            try:
                conn = await self._pool.getconn(timeout=deadline - time.monotonic())
            except PoolTimeout:
                yield None
                return
            if not closed_by_peer(conn):
                break
            # Closed, it is discarded (and replaced in the background) when given back; try the next one.
            # (Not the pool's own check: a connection failing it goes back to the pool as it is.)
            await conn.close()
            await self._pool.putconn(conn)
        try:
            yield conn
        finally:
            # A broken connection is discarded here and replaced in the background.
            await self._pool.putconn(conn)


async def fetch(conn: MoneyConnection, statement: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` (psycopg placeholders) run with ``params``; psycopg's errors as they are."""
    cursor = conn.kept_cursor
    if cursor is None or cursor.closed:
        cursor = conn.kept_cursor = conn.cursor()
    await cursor.execute(statement, params)  # type: ignore[arg-type]  # a constant of this package
    return await cursor.fetchall()


async def _configure(conn: MoneyConnection) -> None:
    notices: list[str] = []
    conn.notices = notices
    conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
