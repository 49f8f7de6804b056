"""The API client cache (api/client_cache.py): trusted only while the database's announcements of
changes are heard, and a changed client is dropped when its change is announced."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from access_support import access_client, api_client_headers, make_api_client, staff_headers, unique_login
from conftest import DATABASE, PostgresServer
from fastapi.testclient import TestClient
from httpx import Response

from oson_operator.api.client_cache import ApiClientCache
from oson_operator.domain.access import Role
from oson_operator.domain.passwords import token_digest
from oson_operator.storage.access import ApiClient
from oson_operator.storage.notifications import LISTENER_APPLICATION_NAME, Listener

TRIGGER = "api_client_announce_change"


def me(client: TestClient, client_id: str, secret: str) -> Response:
    return client.get("/api/auth/me", headers=api_client_headers(client_id, secret))


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.02)


def cache_of(client: TestClient) -> ApiClientCache:
    return client.app.state.api_client_cache  # type: ignore[attr-defined,no-any-return]


@contextmanager
def unannounced(running_pg: PostgresServer) -> Iterator[Callable[[str], None]]:
    """Run SQL on the API clients without the announcing trigger: what the cache would then miss."""
    with running_pg.superuser(DATABASE) as conn:
        conn.execute(f"ALTER TABLE oson.api_client DISABLE TRIGGER {TRIGGER}")
        try:
            yield lambda statement: conn.execute(statement)  # type: ignore[arg-type,func-returns-value]
        finally:
            conn.execute(f"ALTER TABLE oson.api_client ENABLE TRIGGER {TRIGGER}")


def test_a_verified_client_is_served_from_the_cache_until_its_change_is_announced(
    running_pg: PostgresServer,
) -> None:
    client_id, secret = make_api_client(running_pg.settings(), unique_login("cached app"))
    with access_client(running_pg.settings(api_client_cache_seconds=300)) as app:
        wait_for(lambda: cache_of(app).trusted, "the listener listens")
        assert me(app, client_id, secret).status_code == 200  # marks its first use: not cached yet
        assert me(app, client_id, secret).status_code == 200  # read and cached
        assert me(app, client_id, secret[:-1] + "x").status_code == 401  # another secret: read, refused
        # ... and the client stays cached: anyone can send a wrong secret; it says nothing about the client.
        assert cache_of(app).get(client_id, token_digest(secret)) is not None
        with unannounced(running_pg) as sql:
            sql(f"UPDATE oson.api_client SET status = 'blocked', blocked_reason = 'administrator', "
                f"blocked_at = now() WHERE client_id = '{client_id}'")
        # Blocked in the database without an announcement: still served, so no read happened.
        assert me(app, client_id, secret).status_code == 200
        with running_pg.superuser(DATABASE) as conn:  # the same change, announced this time
            conn.execute("UPDATE oson.api_client SET blocked_at = now() WHERE client_id = %s", (client_id,))
        wait_for(lambda: me(app, client_id, secret).status_code == 403, "the announced block refuses the client")
        assert me(app, client_id, secret).json()["error"]["code"] == "API_CLIENT_BLOCKED"


def test_a_change_made_through_the_service_takes_effect_on_the_next_request(running_pg: PostgresServer) -> None:
    settings = running_pg.settings(api_client_cache_seconds=300)
    client_id, secret = make_api_client(settings, unique_login("regenerated app"))
    with access_client(settings) as app:
        wait_for(lambda: cache_of(app).trusted, "the listener listens")
        admin = staff_headers(app, settings, Role.ADMIN)
        for _ in range(2):
            assert me(app, client_id, secret).status_code == 200
        assert cache_of(app).get(client_id, token_digest(secret)) is not None
        new_secret = app.post(f"/api/api-clients/{client_id}/regenerate", headers=admin).json()["client_secret"]
        # No wait: the process that made the change drops the client itself.
        assert me(app, client_id, secret).status_code == 401
        assert me(app, client_id, new_secret).status_code == 200
        assert app.post(f"/api/api-clients/{client_id}/block", headers=admin).status_code == 200
        assert me(app, client_id, new_secret).status_code == 403


def test_the_cache_is_not_trusted_while_the_listener_is_disconnected(running_pg: PostgresServer) -> None:
    client_id, secret = make_api_client(running_pg.settings(), unique_login("listener app"))
    with access_client(running_pg.settings(api_client_cache_seconds=300)) as app:
        wait_for(lambda: cache_of(app).trusted, "the listener listens")
        for _ in range(2):
            assert me(app, client_id, secret).status_code == 200
        with running_pg.superuser(DATABASE) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                         (LISTENER_APPLICATION_NAME,))
        wait_for(lambda: not cache_of(app).trusted, "the lost listener is noticed")
        with unannounced(running_pg) as sql:
            sql(f"UPDATE oson.api_client SET status = 'blocked', blocked_reason = 'administrator', "
                f"blocked_at = now() WHERE client_id = '{client_id}'")
            # Nothing can be announced now, and nothing cached is trusted: the block is read.
            assert me(app, client_id, secret).status_code == 403
            sql(f"UPDATE oson.api_client SET status = 'active', blocked_reason = NULL, blocked_at = NULL "
                f"WHERE client_id = '{client_id}'")
        wait_for(lambda: cache_of(app).trusted, "the listener reconnects")
        assert me(app, client_id, secret).status_code == 200
        assert cache_of(app).get(client_id, token_digest(secret)) is not None


def test_without_caching_nothing_listens_and_every_request_reads(running_pg: PostgresServer) -> None:
    client_id, secret = make_api_client(running_pg.settings(), unique_login("uncached app"))
    with access_client(running_pg.settings(api_client_cache_seconds=0)) as app:
        assert not cache_of(app).enabled
        for _ in range(2):
            assert me(app, client_id, secret).status_code == 200
        with unannounced(running_pg) as sql:
            sql(f"UPDATE oson.api_client SET status = 'blocked', blocked_reason = 'administrator', "
                f"blocked_at = now() WHERE client_id = '{client_id}'")
            assert me(app, client_id, secret).status_code == 403


def _client(client_id: str = "oc_1") -> ApiClient:
    now = datetime.now(UTC)
    return ApiClient(client_id, "app", None, "digest", "active", None, None, now, now, now, "test", now)


def test_a_read_older_than_an_announced_change_is_not_kept() -> None:
    cache = ApiClientCache(60)
    assert cache.get("oc_1", "digest") is None
    cache.put(_client(), "digest", cache.generation())
    assert cache.get("oc_1", "digest") is None  # not listening yet: nothing is kept
    cache.listening()
    before_read = cache.generation()
    cache.forget("oc_1")  # announced while the request was reading
    cache.put(_client(), "digest", before_read)
    assert cache.get("oc_1", "digest") is None
    cache.put(_client(), "digest", cache.generation())
    assert cache.get("oc_1", "digest") is not None
    cache.forget("oc_2")
    assert cache.get("oc_1", "digest") is not None
    cache.lost()
    assert cache.get("oc_1", "digest") is None
    cache.listening()
    assert cache.get("oc_1", "digest") is None  # emptied when it was lost, not restored


def test_an_entry_expires_after_the_maximum_age() -> None:
    cache = ApiClientCache(0.05)
    cache.listening()
    cache.put(_client(), "digest", cache.generation())
    assert cache.get("oc_1", "digest") is not None
    time.sleep(0.06)
    assert cache.get("oc_1", "digest") is None


def test_the_listener_outlives_a_failing_callback_and_reconnects(running_pg: PostgresServer) -> None:
    notified: list[str] = []
    listens: list[int] = []
    losses: list[int] = []

    def on_notify(payload: str) -> None:
        notified.append(payload)
        raise RuntimeError("a bug in the callback")

    listener = Listener(running_pg.settings(), "oson_test_channel", on_notify=on_notify,
                        on_listening=lambda: listens.append(1), on_lost=lambda: losses.append(1), retry_seconds=0.1)
    listener.start()
    try:
        wait_for(lambda: len(listens) == 1, "the listener listens")
        with running_pg.superuser(DATABASE) as conn:
            conn.execute("SELECT pg_notify('oson_test_channel', 'one')")
        wait_for(lambda: len(listens) == 2, "the listener listens again after the failure")
        assert notified == ["one"] and len(losses) == 1
    finally:
        listener.stop()
