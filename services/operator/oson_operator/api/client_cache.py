"""API clients verified recently, trusted without a database read while no change to them is announced.

Every partner request would otherwise read its API client, a round trip and a tenth of a payment's
CPU. A trigger (migration 0010) announces every change to a client (block, new secret, dormancy,
last use) on the channel ``oson_api_client_changed``; each service process listens on it and drops
the client at once. The cache is used only while the listener is connected (emptied when the
connection is lost, trusted again once it listens anew), and an entry never outlives
``api_client_cache_seconds``. A change takes effect within the notification's delivery, a few
milliseconds, like a change that commits just after an uncached read.
"""

from __future__ import annotations

import threading
import time

from oson_operator.settings import Settings
from oson_operator.storage.access import ApiClient
from oson_operator.storage.notifications import Listener

CHANNEL = "oson_api_client_changed"
MAX_ENTRIES = 10_000


class ApiClientCache:
    """(client id, secret digest) -> the client as read, while trusted."""

    def __init__(self, max_age_seconds: float) -> None:
        self._max_age = max_age_seconds
        self._entries: dict[tuple[str, str], tuple[ApiClient, float]] = {}
        self._lock = threading.Lock()
        self._trusted = False  # the listener is connected and listening
        # Bumped by every change announced: an entry read before a change is not stored after it.
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self._max_age > 0

    @property
    def trusted(self) -> bool:
        """Whether entries are used: caching is on and the listener is listening."""
        return self._trusted

    def generation(self) -> int:
        """Take this before reading a client from the database, and give it to ``put``."""
        return self._generation

    def get(self, client_id: str, digest: str) -> ApiClient | None:
        if not self._trusted:
            return None
        entry = self._entries.get((client_id, digest))
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def put(self, client: ApiClient, digest: str, generation: int) -> None:
        """Keep ``client`` unless a change was announced since ``generation`` was taken (the read may
        predate it) or the listener is not connected (never, when caching is off)."""
        with self._lock:
            if not self._trusted or generation != self._generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[(client.client_id, digest)] = (client, time.monotonic() + self._max_age)

    def forget(self, client_id: str) -> None:
        with self._lock:
            self._generation += 1
            for key in [key for key in self._entries if key[0] == client_id]:
                del self._entries[key]

    def listening(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()  # anything read before the listener started may be stale
            self._trusted = True

    def lost(self) -> None:
        with self._lock:
            self._trusted = False
            self._generation += 1
            self._entries.clear()


def start_listening(cache: ApiClientCache, settings: Settings) -> Listener | None:
    """The listener that keeps ``cache`` honest, started; None when caching is off."""
    if not cache.enabled:
        return None
    listener = Listener(settings, CHANNEL, on_notify=cache.forget, on_listening=cache.listening, on_lost=cache.lost)
    listener.start()
    return listener
