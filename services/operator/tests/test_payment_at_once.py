"""The one-statement payment (oson.post_transfer): same answer and rows as the full transaction, and it
writes nothing when what it decided on changed before the wallets were locked."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from business_support import Desk, World, make_world, open_desk
from conftest import PostgresServer
from fastapi.responses import JSONResponse
from sqlalchemy import text

from oson_operator.domain.access import Principal, Role
from oson_operator.service.context import RequestContext
from oson_operator.service.operations import Operations
from oson_operator.service.transaction import Command, execute_at_once
from oson_operator.storage.transfer import _READ, Declined


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


def _command(world: World, amount: str, key: str | None = None) -> Command:
    request = {"payer_wallet_id": world.client_wallet, "payee_wallet_id": world.partner_wallet, "amount": amount,
               "purpose": "goods"}
    context = RequestContext(request_id=str(uuid.uuid4()), started_at=datetime.now(UTC),
                             source_address="127.0.0.1", language="en")
    return Command("payment.create", Principal(kind="api_client", name="oc_test", role=Role.INTEGRATION), context,
                   key or str(uuid.uuid4()), request)


def _tiyn(amount: str) -> int:
    return int(amount.replace(".", ""))


def _stored(desk: Desk, actor: str, key: str) -> tuple[int | None, str | None]:
    operations: Operations = desk.client.app.state.operations
    with operations.engine.connect() as conn:
        row = conn.execute(text("SELECT status_code, response::text FROM oson.idempotency_key "
                                "WHERE actor = :a AND key = :k"), {"a": actor, "k": key}).first()
    return (row[0], row[1]) if row is not None else (None, None)


def test_one_statement_payment_answers_like_the_stored_rows(desk: Desk) -> None:
    world = make_world(desk, funds="10000.00")
    operations: Operations = desk.client.app.state.operations
    command = _command(world, "1000.00")
    decide = operations.decide_pay(command, "payment", world.client_wallet, world.partner_wallet,
                                   _tiyn("1000.00"), "goods")
    outcome = execute_at_once(operations.engine, command, decide)
    assert outcome is not None and outcome.status == 201 and not outcome.replayed
    operation = outcome.body["operation"]
    assert isinstance(operation["receipt_number"], int) and operation["receipt_number"] > 0
    # What was answered before the write is what the stored rows read back as.
    assert desk.get(f"/api/operations/{operation['id']}")["operation"] == operation
    assert json.dumps(desk.get(f"/api/operations/{operation['id']}")["operation"]) == json.dumps(operation)
    assert desk.get(f"/api/operations/{operation['id']}/receipt")["receipt"] == outcome.body["receipt"]
    # The stored answer is the answer's body, byte for byte, and the same document (a replay is identical).
    status, stored = _stored(desk, command.principal.actor, command.idempotency_key)
    assert status == 201 and outcome.rendered is not None and stored == outcome.rendered.decode()
    assert json.dumps(json.loads(stored)) == json.dumps(outcome.body)
    assert outcome.rendered == JSONResponse(outcome.body).body
    replay = operations.pay(command, "payment", world.client_wallet, world.partner_wallet, _tiyn("1000.00"), "goods")
    assert replay.replayed and json.dumps(replay.body) == json.dumps(outcome.body)
    # The same key again: the one-statement path declines, the full transaction replays.
    assert execute_at_once(operations.engine, command, decide) is None
    assert desk.balance(world.client_wallet) == "8780.00" and desk.balance(world.partner_wallet) == "1000.00"
    with operations.engine.connect() as conn:
        events = conn.execute(text("SELECT action, result, actor, details->>'status' FROM oson.event "
                                   "WHERE record_id = :id"), {"id": operation["id"]}).all()
    assert [tuple(e) for e in events] == [("payment.create", "ok", "client:oc_test", "201")]
    assert desk.get("/api/ledger/check")["ok"] is True


def test_balance_spent_after_the_read_declines_and_the_refusal_is_recorded(desk: Desk) -> None:
    world = make_world(desk, funds="10000.00")
    operations: Operations = desk.client.app.state.operations
    command = _command(world, "5000.00")  # 5000 + 2% + 200 = 5300
    with operations.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        write = operations.decide_pay(command, "payment", world.client_wallet, world.partner_wallet,
                                      _tiyn("5000.00"), "goods")(conn)
        assert write is not None
        desk.pay(world.client_wallet, world.partner_wallet, "5000.00", expect=201)  # 4700.00 left
        with pytest.raises(Declined):
            write(conn)
    assert _stored(desk, command.principal.actor, command.idempotency_key) == (None, None)
    refused = operations.pay(command, "payment", world.client_wallet, world.partner_wallet, _tiyn("5000.00"),
                             "goods")
    assert refused.status == 422 and refused.body["error"]["code"] == "INSUFFICIENT_FUNDS"
    assert desk.balance(world.client_wallet) == "4700.00"
    assert desk.get("/api/ledger/check")["ok"] is True


def test_payee_blocked_after_the_read_declines(desk: Desk) -> None:
    world = make_world(desk, funds="10000.00")
    operations: Operations = desk.client.app.state.operations
    command = _command(world, "100.00")
    with operations.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        write = operations.decide_pay(command, "payment", world.client_wallet, world.partner_wallet,
                                      _tiyn("100.00"), "goods")(conn)
        assert write is not None
        with operations.engine.begin() as other:
            other.execute(text("UPDATE oson.account SET status = 'blocked', block_mode = 'full' "
                               "WHERE id = CAST(:id AS uuid)"), {"id": world.partner_wallet})
        with pytest.raises(Declined):
            write(conn)
    refused = operations.pay(command, "payment", world.client_wallet, world.partner_wallet, _tiyn("100.00"), "goods")
    assert refused.status == 422 and refused.body["error"]["code"] == "RECIPIENT_WALLET_BLOCKED"
    assert desk.balance(world.client_wallet) == "10000.00"


def test_refusals_are_left_to_the_full_transaction(desk: Desk) -> None:
    world = make_world(desk, funds="100.00")
    operations: Operations = desk.client.app.state.operations
    command = _command(world, "1000.00")
    assert execute_at_once(operations.engine, command, operations.decide_pay(
        command, "payment", world.client_wallet, world.partner_wallet, _tiyn("1000.00"), "goods")) is None
    assert _stored(desk, command.principal.actor, command.idempotency_key) == (None, None)


def test_the_daily_total_is_read_from_its_own_index_whatever_the_statistics(desk: Desk) -> None:
    """Migration 0008: the payer's debits of the day come from an index holding only them.

    The index they used to share with issuances lost to a scan of every payment while the statistics
    still showed only issuances (a new installation), and the read then grew with the table. A generic
    plan, the one a prepared statement keeps, must use the dedicated index with no table access.
    """
    world = make_world(desk)
    numbered = _READ.replace("%(payer)s", "$1").replace("%(payee)s", "$2").replace("%(day)s", "$3")
    operations: Operations = desk.client.app.state.operations
    with operations.engine.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE daily_total_read(text, text, date) AS {numbered}")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(
            f"EXPLAIN EXECUTE daily_total_read('{world.client_wallet}', '{world.partner_wallet}', current_date)"))
        conn.rollback()
    assert "Index Only Scan using operation_debits_of_day on operation" in plan, plan
