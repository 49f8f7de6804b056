"""Property-based: whatever sequence of operations runs, the ledger invariants hold.

Hypothesis draws sequences of issuances, payments, transfers, redemptions and returns with random
amounts between random wallets (many are refused: that is part of the point). After every sequence:
the trial balance is zero, every operation balances, every wallet equals the sum of its entries and
none is negative, and what the answers said happened is exactly what the ledger holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from business_support import Desk, make_world, open_desk
from conftest import PostgresServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from oson_operator.api.context import RequestContext
from oson_operator.domain.access import Principal, Role
from oson_operator.domain.money import format_amount
from oson_operator.service.operations import Operations
from oson_operator.service.transaction import Command
from oson_operator.storage import ledger

AMOUNTS = st.integers(min_value=1, max_value=300_000_00)  # tiyn, up to 300,000 KZT
OPERATION = st.one_of(
    st.tuples(st.just("issue"), st.integers(0, 3), AMOUNTS),
    st.tuples(st.just("pay"), st.integers(0, 3), st.integers(0, 1), AMOUNTS),
    st.tuples(st.just("transfer"), st.integers(0, 3), AMOUNTS),
    st.tuples(st.just("redeem"), st.integers(0, 4), AMOUNTS),
    st.tuples(st.just("return"), st.integers(0, 50), st.sampled_from(["technical_failure", "consumer_protection"]),
              st.integers(min_value=0, max_value=100)),
)


@pytest.fixture(scope="module")
def world_desk(pg: PostgresServer, first_upgrade: object) -> Iterator[Desk]:
    with open_desk(pg.settings()) as desk:
        yield desk


def _command(action: str, request: dict[str, object]) -> Command:
    context = RequestContext(request_id=str(uuid.uuid4()), started_at=datetime.now(UTC), source_address="127.0.0.1",
                             language="en")
    return Command(action=action, principal=Principal("staff", "property-test", Role.OPERATOR), context=context,
                   idempotency_key=str(uuid.uuid4()), request=request)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(OPERATION, min_size=5, max_size=25))
def test_ledger_invariants_hold_for_any_sequence(world_desk: Desk, steps: list[tuple[object, ...]]) -> None:
    desk = world_desk
    world = make_world(desk, identification="simplified", funds=None)
    other = desk.register("individual")["id"]
    desk.identify(other, "identified")
    company = desk.register("legal_entity")["id"]
    clients = [world.client_wallet, desk.wallet(other, world.issuer), desk.wallet(company, world.issuer),
               world.partner_wallet]
    partners = [world.partner_wallet, desk.wallet(desk.register("partner", tariff="kz_mobile")["id"], world.issuer)]
    operations: Operations = desk.client.app.state.operations  # type: ignore[attr-defined]
    completed: list[str] = []
    for step in steps:
        kind = step[0]
        if kind == "issue":
            _, who, amount = step
            outcome = operations.issue(_command("issuance.create", {}), clients[who], amount, "ref")
        elif kind == "pay":
            _, who, partner, amount = step
            outcome = operations.pay(_command("payment.create", {}), "payment", clients[who], partners[partner],
                                     amount, "goods")
        elif kind == "transfer":
            _, who, amount = step
            outcome = operations.pay(_command("transfer.create", {}), "transfer", clients[who], clients[2], amount,
                                     "services")
        elif kind == "redeem":
            _, who, amount = step
            wallet = (clients + partners)[who]
            outcome = operations.redeem(_command("redemption.create", {}), wallet, amount,
                                        {"iban": "KZ123456789012345678", "bik": "HSBKKZKX"})
        else:
            _, index, case, percent = step
            if not completed:
                continue
            original = completed[index % len(completed)]
            amount = None if case == "technical_failure" else max(1, percent)
            outcome = operations.refund(_command("return.create", {}), original, case, amount,  # type: ignore[arg-type]
                                        {"authorized_by": "operator", "reference": "r"}, "g", None, None)
        assert outcome.status in (201, 422), outcome.body
        if outcome.status == 201:
            operation = outcome.body["operation"]
            if operation["kind"] in ("payment", "transfer"):
                completed.append(operation["id"])

    with desk.client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        check = ledger.check_ledger(conn)
        negative = conn.execute(text(
            "SELECT count(*) FROM oson.account WHERE kind = 'wallet' AND balance < 0")).scalar()
        # Conservation: e-money outstanding (all wallets) + commission income mirrors the specialized account.
        wallets_total = conn.execute(text("SELECT coalesce(sum(balance), 0) FROM oson.account "
                                          "WHERE kind = 'wallet'")).scalar()
        system = ledger.system_balances(conn)
    assert check.trial_balance == 0
    assert check.unbalanced_operations == []
    assert check.wallet_mismatches == []
    assert negative == 0
    assert wallets_total + system["commission_income"] + system["specialized"] == 0, format_amount(wallets_total)
