"""Payments served from the event loop (storage/money_pool.py, the money lane's first try for an API
client known without a database read): the same answers and rows as the worker threads' path, and
every way it cannot go on either falls back to that path or answers as that path answers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from access_support import api_client_headers, make_api_client, unique_login
from business_support import Desk, World, count_thread_serves, make_world, open_desk
from conftest import DATABASE, PostgresServer, wait_until
from httpx import Response
from sqlalchemy import text

from oson_operator.api import money_lane
from oson_operator.storage import transfer
from oson_operator.storage.money_pool import APPLICATION_NAME, CHECKOUT_TIMEOUT, MoneyConnection, MoneyPool


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings(database_money_pool_size=2)) as desk:
        yield desk


@pytest.fixture()
def by_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the money-lane requests the worker threads served (the event loop's are not here)."""
    return count_thread_serves(monkeypatch)


def known_partner(desk: Desk) -> dict[str, str]:
    """Headers of an API client the service knows without a database read (verified and cached)."""
    client_id, secret = make_api_client(desk.settings, unique_login("loop partner"))
    headers = api_client_headers(client_id, secret)
    cache = desk.client.app.state.api_client_cache  # type: ignore[attr-defined]
    assert wait_until(lambda: cache.trusted, timeout=10), "the API client listener does not listen"
    # The first request marks the client's first use (a write: not cached), the second caches it.
    for _ in range(2):
        assert desk.client.get("/api/auth/me", headers=headers).status_code == 200
    return headers


def pay(desk: Desk, headers: dict[str, str], world: World, amount: str, key: str | None = None,
        path: str = "/api/payments") -> Response:
    body = {"payer_wallet_id": world.client_wallet, "payee_wallet_id": world.partner_wallet, "amount": amount,
            "purpose": "goods"}
    return desk.client.post(path, content=json.dumps(body), headers={
        **headers, "Content-Type": "application/json", "Idempotency-Key": key or str(uuid.uuid4())})


def events_of(desk: Desk, operation_id: str) -> list[tuple[Any, ...]]:
    with desk.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(text("SELECT action, result, details->>'status' FROM oson.event WHERE record_id = :id "
                                 "ORDER BY id"), {"id": operation_id}).all()
    return [tuple(row) for row in rows]


def left_after(funds: str, *answers: Response) -> str:
    """What a wallet funded with ``funds`` holds after paying the operations of ``answers``."""
    tiyn = int(funds.replace(".", "")) - sum(
        int(op["amount"].replace(".", "")) + int(op["commission"].replace(".", ""))
        for op in (answer.json()["operation"] for answer in answers))
    return f"{tiyn // 100}.{tiyn % 100:02d}"


def loop_backends(running_pg: PostgresServer) -> list[int]:
    with running_pg.superuser(DATABASE) as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION_NAME,))]


def test_a_known_api_client_pays_on_the_event_loop(desk: Desk, by_threads: list[str],
                                                   running_pg: PostgresServer) -> None:
    world = make_world(desk, funds="10000.00")
    partner = known_partner(desk)
    by_threads.clear()  # the funding issuance
    key = str(uuid.uuid4())
    first = pay(desk, partner, world, "1000.00", key)
    assert first.status_code == 201, first.text
    assert by_threads == [] and loop_backends(running_pg)
    operation = first.json()["operation"]
    assert operation["amount"] == "1000.00" and operation["commission"] == "220.00"
    assert desk.get(f"/api/operations/{operation['id']}")["operation"] == operation
    assert desk.get(f"/api/operations/{operation['id']}/receipt")["receipt"] == first.json()["receipt"]
    assert events_of(desk, operation["id"]) == [("payment.create", "ok", "201")]
    # The same key again: declined on the loop (nothing written), replayed by the threads' transaction.
    again = pay(desk, partner, world, "1000.00", key)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.content == first.content and by_threads == ["/api/payments"]
    # A refusal is the threads' to decide and record.
    refused = pay(desk, partner, world, "9000.00")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert by_threads == ["/api/payments"] * 2
    # Staff are not known without a database read (their sessions are read and touched): the threads.
    staff = pay(desk, desk.headers, world, "10.00")
    assert staff.status_code == 201 and by_threads == ["/api/payments"] * 3
    assert desk.balance(world.client_wallet) == left_after("10000.00", first, staff)
    assert desk.balance(world.partner_wallet) == "1010.00"
    assert desk.get("/api/ledger/check")["ok"] is True


def test_with_no_event_loop_connections_payments_take_the_threads(running_pg: PostgresServer,
                                                                   by_threads: list[str]) -> None:
    with open_desk(running_pg.settings(database_money_pool_size=0)) as desk:
        world = make_world(desk, funds="10000.00")
        partner = known_partner(desk)
        by_threads.clear()  # the funding issuance
        assert pay(desk, partner, world, "10.00").status_code == 201
        assert by_threads == ["/api/payments"]
        assert loop_backends(running_pg) == []


def test_a_connection_the_server_closed_while_idle_is_replaced_at_checkout(
    desk: Desk, by_threads: list[str], running_pg: PostgresServer,
) -> None:
    world = make_world(desk, funds="10000.00")
    partner = known_partner(desk)
    by_threads.clear()  # the funding issuance
    answers = [pay(desk, partner, world, "10.00")]
    assert answers[0].status_code == 201
    old = set(loop_backends(running_pg))
    with running_pg.superuser(DATABASE) as conn:
        for pid in old:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert wait_until(lambda: not old & set(loop_backends(running_pg)), timeout=10, interval=0.02)
    for _ in range(3):
        answers.append(pay(desk, partner, world, "10.00"))
        assert answers[-1].status_code == 201, answers[-1].text
    assert by_threads == [] and not old & set(loop_backends(running_pg))
    assert desk.balance(world.client_wallet) == left_after("10000.00", *answers)


def test_a_connection_lost_during_the_write_answers_outcome_unknown_and_the_retry_settles_it(
    desk: Desk, by_threads: list[str], running_pg: PostgresServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(desk, funds="10000.00")
    partner = known_partner(desk)
    by_threads.clear()  # the funding issuance
    post = transfer.post_transfer_async

    async def lost(conn: MoneyConnection, write: transfer.TransferWrite) -> int:
        with running_pg.superuser(DATABASE) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
        return await post(conn, write)

    monkeypatch.setattr(transfer, "post_transfer_async", lost)
    key = str(uuid.uuid4())
    unknown = pay(desk, partner, world, "10.00", key)
    assert unknown.status_code == 503 and unknown.json()["error"]["code"] == "OUTCOME_UNKNOWN", unknown.text
    assert by_threads == [] and desk.balance(world.client_wallet) == "10000.00"
    monkeypatch.setattr(transfer, "post_transfer_async", post)
    settled = pay(desk, partner, world, "10.00", key)
    assert settled.status_code == 201 and settled.headers.get("idempotent-replayed") is None
    assert desk.balance(world.client_wallet) == left_after("10000.00", settled)


def test_a_cancelled_replication_wait_answers_outcome_unknown_and_the_retry_replays(
    desk: Desk, by_threads: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server's warning that the synchronous standby did not confirm the commit (the write is on the
    primary only) is never answered "ok"."""
    world = make_world(desk, funds="10000.00")
    partner = known_partner(desk)
    by_threads.clear()  # the funding issuance
    post = transfer.post_transfer_async

    async def unconfirmed(conn: MoneyConnection, write: transfer.TransferWrite) -> int:
        receipt = await post(conn, write)
        await conn.execute("DO $$ BEGIN RAISE WARNING 'canceling wait for synchronous replication due to user "
                           "request'; END $$")
        return receipt

    monkeypatch.setattr(transfer, "post_transfer_async", unconfirmed)
    key = str(uuid.uuid4())
    unknown = pay(desk, partner, world, "10.00", key)
    assert unknown.status_code == 503 and unknown.json()["error"]["code"] == "OUTCOME_UNKNOWN", unknown.text
    monkeypatch.setattr(transfer, "post_transfer_async", post)
    replayed = pay(desk, partner, world, "10.00", key)
    assert replayed.status_code == 201 and replayed.headers.get("idempotent-replayed") == "true"
    assert desk.balance(world.client_wallet) == left_after("10000.00", replayed)


def test_a_statement_the_server_refuses_is_answered_as_on_the_threads(
    desk: Desk, by_threads: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(desk, funds="10000.00")
    partner = known_partner(desk)
    by_threads.clear()  # the funding issuance

    async def refused(conn: MoneyConnection, write: transfer.TransferWrite) -> int:
        await conn.execute("SELECT 1 / 0")
        raise AssertionError("unreachable")

    monkeypatch.setattr(transfer, "post_transfer_async", refused)
    answer = pay(desk, partner, world, "10.00")
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "INTERNAL_ERROR", answer.text
    assert by_threads == [] and desk.balance(world.client_wallet) == "10000.00"
    # The connection is still good: the next payment is served on the loop.
    monkeypatch.undo()
    monkeypatch.setattr(money_lane, "_serve", lambda *args: pytest.fail("served by the threads"))
    assert pay(desk, partner, world, "10.00").status_code == 201


def test_no_connection_in_time_yields_none(running_pg: PostgresServer) -> None:
    async def scenario() -> tuple[bool, float, bool]:
        pool = MoneyPool(running_pg.settings(database_money_pool_size=1))
        await pool.open()
        try:
            async with pool.connection() as held:
                assert held is not None and await held.execute("SELECT 1")
                started = time.monotonic()
                async with pool.connection() as none:
                    waited = time.monotonic() - started
                    got_none = none is None
            async with pool.connection() as again:
                returned = again is not None
        finally:
            await pool.close()
        return got_none, waited, returned

    got_none, waited, returned = asyncio.run(scenario())
    assert got_none and CHECKOUT_TIMEOUT * 0.9 <= waited < CHECKOUT_TIMEOUT + 2 and returned


def test_an_unreachable_database_yields_none(running_pg: PostgresServer) -> None:
    async def scenario() -> bool:
        pool = MoneyPool(running_pg.settings(database_money_pool_size=1, database_port=1))
        await pool.open()
        try:
            async with pool.connection() as conn:
                return conn is None
        finally:
            await pool.close()

    assert asyncio.run(scenario())
