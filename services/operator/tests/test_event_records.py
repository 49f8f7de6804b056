"""Every state-changing request leaves one event record (§14.1(11)): done, refused, denied, or replayed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from access_support import staff_headers
from business_support import Desk, make_world, open_desk
from conftest import PostgresServer

from oson_operator.domain.access import Role


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


def events(desk: Desk, **filters: Any) -> list[dict[str, Any]]:
    auditor = staff_headers(desk.client, desk.settings, Role.AUDITOR)
    response = desk.client.get("/api/events", params=filters, headers=auditor)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def test_a_payment_has_exactly_one_event_with_the_required_attributes(desk: Desk) -> None:
    world = make_world(desk)
    request_id = f"req-{uuid.uuid4()}"
    done = desk.pay(world.client_wallet, world.partner_wallet, "10.00", headers={"X-Request-ID": request_id},
                    expect=201)
    assert done.headers["X-Request-ID"] == request_id
    operation_id = done.json()["operation"]["id"]
    [event] = events(desk, record_type="operation", record_id=operation_id)
    assert event["action"] == "payment.create"
    assert event["result"] == "ok"
    assert event["actor"].startswith("staff:operator-")
    assert event["request_id"] == request_id
    assert event["source_address"]
    assert event["started_at"] <= event["ended_at"]


def test_refusals_denials_and_replays_are_recorded(desk: Desk) -> None:
    world = make_world(desk, funds="1.00")
    refused = desk.pay(world.client_wallet, world.partner_wallet, "10.00")
    [event] = events(desk, record_id=refused.json()["operation"]["id"])
    assert event["result"] == "refused:INSUFFICIENT_FUNDS"

    request_id = f"req-{uuid.uuid4()}"
    incomplete = desk.post("/api/payments", {"amount": "1.00"}, headers={"X-Request-ID": request_id})
    assert incomplete.status_code == 422
    [event] = [e for e in events(desk, action="http POST /api/payments") if e["request_id"] == request_id]
    assert event["result"] == "refused:REQUEST_INVALID"
    assert event["actor"].startswith("staff:operator-")

    auditor = staff_headers(desk.client, desk.settings, Role.AUDITOR)
    request_id = f"req-{uuid.uuid4()}"
    denied = desk.client.post("/api/issuances", json={}, headers={**auditor, "Idempotency-Key": "x",
                                                                  "X-Request-ID": request_id})
    assert denied.status_code == 403
    [event] = [e for e in events(desk, result="denied") if e["request_id"] == request_id]
    assert event["actor"].startswith("staff:auditor-")

    key = str(uuid.uuid4())
    first = desk.pay(world.client_wallet, world.partner_wallet, "0.50", idempotency_key=key)
    again = desk.pay(world.client_wallet, world.partner_wallet, "0.50", idempotency_key=key)
    assert first.content == again.content
    results = [e["result"] for e in events(desk, action="payment.create", actor=events(
        desk, record_id=first.json()["operation"]["id"])[0]["actor"]) if e["details"].get("idempotency_key") == key]
    assert sorted(results) == ["refused:INSUFFICIENT_FUNDS", "replayed"]
