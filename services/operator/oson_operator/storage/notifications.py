"""Listening to a PostgreSQL notification channel on a connection of its own, in a thread.

PostgreSQL delivers a NOTIFY to every session that was listening when the notifying transaction
committed, so while the connection lives nothing is missed. When it dies (a failover, a restart),
``on_lost`` runs before the listener reconnects, and ``on_listening`` once it listens again: a
caller keeping state that notifications invalidate drops it on the one and trusts it again only
after the other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from oson_operator.settings import Settings
from oson_operator.storage.engine import connect_args

log = logging.getLogger("oson_operator.storage.notifications")

LISTENER_APPLICATION_NAME = "oson-operator-listener"
PING_SECONDS = 60.0


class Listener:
    """``LISTEN channel`` in a daemon thread, calling ``on_notify(payload)`` for each notification."""

    def __init__(self, settings: Settings, channel: str, *, on_notify: Callable[[str], None],
                 on_listening: Callable[[], None], on_lost: Callable[[], None], retry_seconds: float = 2.0) -> None:
        self._settings, self._channel = settings, channel
        self._on_notify, self._on_listening, self._on_lost = on_notify, on_listening, on_lost
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end; it closes its connection within a second (not waited for: the
        thread is a daemon, and shutting down, or a test's many applications, need not wait)."""
        self._stop.set()

    def _connect(self) -> psycopg.Connection:
        settings = self._settings
        return psycopg.connect(
            host=settings.database_host, port=settings.database_port, dbname=settings.database_name,
            user=settings.database_user, password=settings.database_password.get_secret_value() or None,
            autocommit=True, **connect_args(settings, application_name=LISTENER_APPLICATION_NAME))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._on_listening()
                    last_ping = time.monotonic()
                    while not self._stop.is_set():
                        # A short timeout, so that stop() is noticed; notifies() raises when the connection dies.
                        for notification in conn.notifies(timeout=1.0):
                            self._on_notify(notification.payload)
                        if time.monotonic() - last_ping >= PING_SECONDS:
                            # An idle connection is cut by proxies (HAProxy's database timeout) and a dead
                            # one noticed only when used: a statement now and then keeps and checks it.
                            conn.execute("SELECT 1")
                            last_ping = time.monotonic()
            except psycopg.Error as exc:
                if not self._stop.is_set():
                    log.warning("listening on %s failed (%s); retrying in %.0f s", self._channel, exc,
                                self._retry_seconds)
            except Exception:  # a bug in a callback must not end the thread: callers rely on it
                log.exception("listening on %s failed; retrying in %.0f s", self._channel, self._retry_seconds)
            finally:
                self._on_lost()
            self._stop.wait(self._retry_seconds)
