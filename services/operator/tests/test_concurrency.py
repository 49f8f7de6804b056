"""Concurrency against a real server and database: no overdraft, idempotency floods, unknown outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from access_support import api_client_headers, make_api_client
from business_support import Desk, World, make_world, open_desk
from conftest import PostgresServer, wait_until
from server_support import CuttingProxy, serve


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


@pytest.fixture()
def integration_headers(running_pg: PostgresServer) -> dict[str, str]:
    client_id, secret = make_api_client(running_pg.settings(), f"app-{uuid.uuid4().hex[:6]}")
    return api_client_headers(client_id, secret)


def _payment(world: World, amount: str) -> dict[str, str]:
    return {"payer_wallet_id": world.client_wallet, "payee_wallet_id": world.partner_wallet, "amount": amount,
            "purpose": "goods"}


def _completed_payments(desk: Desk, wallet: str) -> list[dict[str, object]]:
    operations = desk.get("/api/operations", wallet_id=wallet, kind="payment", status="completed", limit=500)
    return [op for op in operations["operations"] if op["payer_wallet_id"] == wallet]


def test_fifty_concurrent_payments_never_overdraw(running_pg: PostgresServer, desk: Desk,
                                                  integration_headers: dict[str, str]) -> None:
    # Each payment costs 1000 + 2% + 200 = 1220; the wallet holds exactly ten of them.
    world = make_world(desk, funds="12200.00")
    with serve(running_pg.settings(database_pool_size=10)) as url, httpx.Client(base_url=url, timeout=30) as http:
        def pay(_: int) -> httpx.Response:
            headers = {**integration_headers, "Idempotency-Key": str(uuid.uuid4())}
            return http.post("/api/payments", json=_payment(world, "1000.00"), headers=headers)

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(pay, range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10, [r.text for r in responses if r.status_code not in (201, 422)]
    assert statuses.count(422) == 40
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {"INSUFFICIENT_FUNDS"}
    assert desk.balance(world.client_wallet) == "0.00"
    assert len(_completed_payments(desk, world.client_wallet)) == 10
    assert desk.get("/api/ledger/check")["ok"] is True


def test_idempotency_flood_creates_one_operation(running_pg: PostgresServer, desk: Desk,
                                                 integration_headers: dict[str, str]) -> None:
    world = make_world(desk, funds="5000.00")
    key = str(uuid.uuid4())
    with serve(running_pg.settings(database_pool_size=10)) as url, httpx.Client(base_url=url, timeout=30) as http:
        def pay(_: int) -> httpx.Response:
            return http.post("/api/payments", json=_payment(world, "100.00"),
                             headers={**integration_headers, "Idempotency-Key": key})

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(pay, range(50)))
        assert {r.status_code for r in responses} == {201}
        assert len({r.content for r in responses}) == 1, "every answer must be byte-identical"
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
        # Keys never expire, and the same key with another request is refused, not executed.
        other = http.post("/api/payments", json=_payment(world, "200.00"),
                          headers={**integration_headers, "Idempotency-Key": key})
        assert other.status_code == 422 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(_completed_payments(desk, world.client_wallet)) == 1
    assert desk.balance(world.client_wallet) == "4698.00"


def test_missing_idempotency_key_is_refused(desk: Desk) -> None:
    world = make_world(desk)
    response = desk.client.post("/api/payments", json=_payment(world, "1.00"), headers=desk.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert body["problems"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("commit_reaches_server", [True, False], ids=["committed", "rolled-back"])
def test_unknown_commit_outcome_is_never_ok_and_a_retry_settles_it(
    running_pg: PostgresServer, desk: Desk, integration_headers: dict[str, str], commit_reaches_server: bool,
) -> None:
    world = make_world(desk, funds="5000.00")
    proxy = CuttingProxy(running_pg.port)
    key = str(uuid.uuid4())
    headers = {**integration_headers, "Idempotency-Key": key}
    try:
        settings = running_pg.settings(database_port=proxy.port)
        with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
            proxy.arm(forward_commit=commit_reaches_server)
            first = http.post("/api/payments", json=_payment(world, "100.00"), headers=headers)
            assert proxy.cuts == 1
            assert first.status_code == 503, first.text
            assert first.json()["error"]["code"] == "OUTCOME_UNKNOWN"
            retry = http.post("/api/payments", json=_payment(world, "100.00"), headers=headers)
    finally:
        proxy.close()
    assert retry.status_code == 201, retry.text
    assert (retry.headers.get("Idempotent-Replayed") == "true") is commit_reaches_server
    assert len(_completed_payments(desk, world.client_wallet)) == 1
    assert Decimal(desk.balance(world.client_wallet)) == Decimal("5000.00") - Decimal("302.00")


def test_cancelled_synchronous_replication_wait_is_unknown(
    running_pg: PostgresServer, desk: Desk, integration_headers: dict[str, str],
) -> None:
    """A commit the synchronous standby never confirmed is not acknowledged as ok.

    The standby named in synchronous_standby_names never answers, so COMMIT waits; cancelling the
    wait (as an operator or a failover does) makes PostgreSQL commit locally with only a warning.
    """
    world = make_world(desk, funds="5000.00")
    key = str(uuid.uuid4())
    headers = {**integration_headers, "Idempotency-Key": key}
    with running_pg.superuser() as admin:
        admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby_that_never_answers'")
        admin.execute("SELECT pg_reload_conf()")
    try:
        with serve(running_pg.settings()) as url, httpx.Client(base_url=url, timeout=30) as http, \
                ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(http.post, "/api/payments", json=_payment(world, "100.00"), headers=headers)
            with running_pg.superuser() as admin:
                def cancel_waiting_commits() -> bool:
                    rows = admin.execute(
                        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
                    ).fetchall()
                    return bool(rows)
                assert wait_until(cancel_waiting_commits, timeout=20), "no commit waited for the standby"

                def answered_after_cancelling_later_commits() -> bool:
                    # Later commits of this request (its API client's use mark, say) wait too.
                    cancel_waiting_commits()
                    return pending.done()

                assert wait_until(answered_after_cancelling_later_commits, timeout=20)
            first = pending.result(timeout=30)
    finally:
        with running_pg.superuser() as admin:
            admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
            admin.execute("SELECT pg_reload_conf()")
    assert first.status_code == 503, first.text
    assert first.json()["error"]["code"] == "OUTCOME_UNKNOWN"
    with serve(running_pg.settings()) as url, httpx.Client(base_url=url, timeout=30) as http:
        retry = http.post("/api/payments", json=_payment(world, "100.00"), headers=headers)
    assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
    assert len(_completed_payments(desk, world.client_wallet)) == 1
