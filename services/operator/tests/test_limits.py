"""§6.1 limits in MCI at their boundaries, the operator's maximum (§5.4.6) and the Almaty operational day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from business_support import Desk, make_world, open_desk
from conftest import PostgresServer

from oson_operator.domain.clock import ManualClock

MCI_2026 = 4325
# 2026-03-04 23:30 Almaty (UTC+5) = 18:30 UTC.
LATE_EVENING = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(LATE_EVENING)


@pytest.fixture()
def desk(running_pg: PostgresServer, clock: ManualClock) -> Iterator[Desk]:
    with open_desk(running_pg.settings(), clock) as desk:
        yield desk


def tenge(mci: int) -> str:
    return f"{mci * MCI_2026}.00"


def code(response: object) -> str | None:
    body = response.json()  # type: ignore[attr-defined]
    return body["error"]["code"] if "error" in body else None


def test_unidentified_per_operation_limit_at_the_boundary(desk: Desk) -> None:
    world = make_world(desk, identification="unidentified", funds=tenge(100))
    # The partner's commission counts against the balance, not the per-operation limit.
    over = desk.pay(world.client_wallet, world.partner_wallet, f"{50 * MCI_2026}.01")
    assert code(over) == "LIMIT_PER_OPERATION"
    assert over.json()["error"]["message"].count("50") >= 1
    assert desk.pay(world.client_wallet, world.partner_wallet, tenge(50)).status_code == 201


def test_unidentified_balance_limit_on_credits(desk: Desk) -> None:
    world = make_world(desk, identification="unidentified", funds=tenge(100))
    refused = desk.post("/api/issuances", {"wallet_id": world.client_wallet, "amount": "0.01",
                                           "money_reference": "r"})
    assert code(refused) == "LIMIT_BALANCE"
    assert desk.balance(world.client_wallet) == tenge(100)


def test_unidentified_daily_limit_and_the_almaty_midnight(desk: Desk, clock: ManualClock) -> None:
    world = make_world(desk, identification="unidentified", funds=tenge(100))
    assert desk.pay(world.client_wallet, world.partner_wallet, tenge(40), expect=201)
    # Top up again to have the balance for more.
    desk.issue(world.client_wallet, tenge(40))
    assert desk.pay(world.client_wallet, world.partner_wallet, tenge(40), expect=201)
    desk.issue(world.client_wallet, tenge(40))
    # 80 MCI used today: 20 more fits exactly, 20.01 does not.
    over = desk.pay(world.client_wallet, world.partner_wallet, f"{20 * MCI_2026}.01")
    assert code(over) == "LIMIT_PER_DAY"
    # 00:00 Almaty is 19:00 UTC: a new operational day with a fresh limit.
    clock.set(datetime(2026, 3, 4, 19, 0, tzinfo=UTC))
    desk.relogin()
    assert desk.pay(world.client_wallet, world.partner_wallet, f"{20 * MCI_2026}.01").status_code == 201


def test_simplified_limits(desk: Desk) -> None:
    world = make_world(desk, identification="simplified", funds=tenge(300))
    assert code(desk.pay(world.client_wallet, world.partner_wallet, f"{100 * MCI_2026}.01")) == "LIMIT_PER_OPERATION"
    assert desk.pay(world.client_wallet, world.partner_wallet, tenge(100)).status_code == 201
    # Room left under the 300-MCI stored balance, to the tiyn.
    room = Decimal(tenge(300)) - Decimal(desk.balance(world.client_wallet))
    refused = desk.post("/api/issuances", {"wallet_id": world.client_wallet, "amount": str(room + Decimal("0.01")),
                                           "money_reference": "r"})
    assert code(refused) == "LIMIT_BALANCE"
    desk.issue(world.client_wallet, str(room))
    assert desk.balance(world.client_wallet) == tenge(300)


def test_legal_entity_per_operation_limit(desk: Desk) -> None:
    world = make_world(desk)
    company = desk.register("legal_entity")["id"]
    wallet = desk.wallet(company, world.issuer)
    desk.issue(wallet, tenge(2000))
    assert code(desk.pay(wallet, world.partner_wallet, f"{1000 * MCI_2026}.01")) == "LIMIT_PER_OPERATION"
    assert desk.pay(wallet, world.partner_wallet, tenge(1000)).status_code == 201


def test_identified_individual_has_only_the_operator_maximum(desk: Desk) -> None:
    world = make_world(desk, identification="identified", funds="10000100.00")
    assert code(desk.pay(world.client_wallet, world.partner_wallet, "10000000.01")) == "OPERATOR_MAXIMUM_EXCEEDED"
    assert desk.pay(world.client_wallet, world.partner_wallet, "5000000.00").status_code == 201


def test_mci_of_the_year_applies(desk: Desk, clock: ManualClock) -> None:
    # 2025-12-31 23:59 Almaty uses the 2025 MCI (3932).
    clock.set(datetime(2025, 12, 31, 18, 59, tzinfo=UTC))
    desk.relogin()
    world = make_world(desk, identification="unidentified", funds=f"{50 * 3932}.00")
    assert code(desk.pay(world.client_wallet, world.partner_wallet, f"{50 * 3932}.01")) == "LIMIT_PER_OPERATION"
    clock.advance(timedelta(minutes=1))
    desk.issue(world.client_wallet, "5000.00")  # covers the commission
    assert desk.pay(world.client_wallet, world.partner_wallet, f"{50 * 3932}.01").status_code == 201
