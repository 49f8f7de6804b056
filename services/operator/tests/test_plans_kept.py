"""Migration 0009: a payment's SQL is planned once per session, not again in every payment.

PostgreSQL keeps a plan only for statements whose generic plan it trusts, and inlines a SQL function
only if the function is no more immutable than its body. Both were missed once and cost a fifth of the
database's CPU per payment (see the migration), and both fail silently, so they are checked here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from business_support import Desk, make_world, open_desk
from conftest import DATABASE, PostgresServer

CANONICAL_ARGUMENTS = ("id, chain, chain_seq, started_at, ended_at, recorded_at, actor, action, record_type, "
                       "record_id, result, source_address, request_id, details")


@pytest.fixture()
def desk(running_pg: PostgresServer) -> Iterator[Desk]:
    with open_desk(running_pg.settings()) as desk:
        yield desk


def test_the_event_canonical_form_is_inlined_into_its_callers_plan(running_pg: PostgresServer) -> None:
    with running_pg.superuser(DATABASE) as conn:
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN (VERBOSE) SELECT sha256(prev_hash || oson.event_canonical({CANONICAL_ARGUMENTS})) "
            "FROM oson.event"))
    # Inlined, the plan computes the bytes itself; called as a function, it names the function.
    assert "event_canonical" not in plan and "event_micros" not in plan and "event_field" not in plan, plan
    assert "concat_ws" in plan, plan


# oson.post_transfer with the wallets' facts read in the call: a payment of 1.00 with no commission.
POST_TRANSFER = """SELECT oson.post_transfer(
    'client:oc_plans', %(key)s, 'hash',
    %(payer)s::uuid, (SELECT oson.wallet_facts(a, p, false) FROM oson.account a JOIN oson.participant p
                ON p.id = a.participant_id WHERE a.id = %(payer)s::uuid), 0, 10000000000,
    %(payee)s::uuid, (SELECT oson.wallet_facts(a, p, false) FROM oson.account a JOIN oson.participant p
                ON p.id = a.participant_id WHERE a.id = %(payee)s::uuid), 10000000000,
    %(operation)s::uuid, 'payment', 100, 0, '{}'::jsonb, 'request', now(), (now() AT TIME ZONE 'Asia/Almaty')::date,
    ARRAY[%(payer)s, %(payee)s]::uuid[], ARRAY[-100, 100]::bigint[],
    now(), now(), 'payment.create', 'operation', %(operation)s::uuid::text, 'ok', '127.0.0.1', '{}'::jsonb,
    201, '{"receipt_number": MARK}', 'MARK')
"""


def test_the_payment_function_plans_its_statements_once_per_session(running_pg: PostgresServer, desk: Desk) -> None:
    world = make_world(desk, funds="100.00")
    ids = {"payer": world.client_wallet, "payee": world.partner_wallet}
    plans: list[str] = []
    with running_pg.superuser(DATABASE) as conn, conn.transaction(force_rollback=True):
        # As many wallets as a real installation has at least: over a handful of rows every plan is
        # cheap, and PostgreSQL would keep even the generic plans it otherwise distrusts.
        conn.execute("INSERT INTO oson.account (kind, participant_id, issuer_id, created_at) "
                     "SELECT 'wallet', %(p)s, %(i)s, now() FROM generate_series(1, 5000)",
                     {"p": world.partner, "i": world.issuer})
        conn.execute("ANALYZE oson.account")
        # auto_explain sends the plan of every statement the function runs to this session.
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (("log_min_duration", "0"), ("log_nested_statements", "on"), ("log_verbose", "on"),
                               ("log_level", "notice")):
            conn.execute(f"SET LOCAL auto_explain.{setting} = {value}")
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        # PostgreSQL tries a statement's first five runs with plans made for their values, then
        # keeps a generic plan if it trusts one; the seventh run shows which it settled on.
        for _ in range(7):
            plans.clear()
            operation = str(uuid.uuid4())
            conn.execute(POST_TRANSFER, {**ids, "key": str(uuid.uuid4()), "operation": operation})
        seventh = list(plans)
        balances = dict(conn.execute("SELECT id::text, balance FROM oson.account WHERE id IN (%s::uuid, %s::uuid)",
                                     (world.client_wallet, world.partner_wallet)).fetchall())
    assert balances == {world.client_wallet: 9300, world.partner_wallet: 700}
    # The call itself is planned for its values (it is run once); the statements inside it are not.
    nested = [plan for plan in seventh if "Query Text: SELECT oson.post_transfer(" not in plan]
    assert len(nested) >= 6, seventh  # the key, the lock, the day's total, operation, entries, balances, ...
    # A plan made for the values of one run names them; a kept generic plan has only $n parameters.
    for value in (*ids.values(), operation):
        assert not [plan for plan in nested if value in plan], f"planned for this run's values: {value}"
    assert not [plan for plan in nested if re.search(r"'\{[0-9a-f-]{36}", plan)], "planned for this run's arrays"
