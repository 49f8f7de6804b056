"""Benchmark: back-office search and journals over many operations.

    python services/operator/bench/records.py [--operations N] [--wallets W] [--repeat R]

Starts its own PostgreSQL 15 (bench/_pg.py), migrates it, bulk-loads W wallets and N payments (two
ledger entries each) spread over 2030, then prints the time of: search pages of the operations list
(default sort, a filter with a sort on another column, the next page by cursor, one wallet's
operations), the ledger-entries list, a wallet "as of" a past time, and the journals of one month
(general journal and turnover sheet, each as a document and rendered to CSV). Goals of issue 4: a
search over 1,000,000 operations under 200 ms, the journal of one month under 2 s; each line says
whether its median meets its goal. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # oson_operator from this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pg import bench_server

from oson_operator.migrate import upgrade
from oson_operator.output import render
from oson_operator.service import journals
from oson_operator.service.listing import get_list, parse_query, run_list
from oson_operator.service.period import Period
from oson_operator.settings import Settings
from oson_operator.storage.engine import create_database_engine

OWNER, RUNTIME, DATABASE = "oson_owner", "oson_app", "oson"
PASSWORDS = {OWNER: "bench-owner-pw", RUNTIME: "bench-app-pw"}
SEARCH_GOAL_MS, JOURNAL_GOAL_MS = 200, 2000

LOAD_SQL = """
SET session_replication_role = replica;  -- bulk load: no per-row triggers (balance checks, foreign keys)
INSERT INTO oson.participant (id, kind, name, iin_bin, identification, created_at, created_by)
SELECT gen_random_uuid(), 'individual', 'Client ' || i, lpad(i::text, 12, '0'), 'identified',
       '2029-12-01'::timestamptz + i * interval '1 second', 'bench'
FROM generate_series(1, :wallets) i;
INSERT INTO oson.account (id, kind, participant_id, created_at)
SELECT gen_random_uuid(), 'wallet', p.id, p.created_at FROM oson.participant p;
CREATE TEMP TABLE w AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM oson.account WHERE kind = 'wallet';
CREATE UNIQUE INDEX ON w (n);
-- Every wallet starts with an issuance large enough for all its payments.
INSERT INTO oson.operation (id, kind, status, amount, commission, payee_account, receipt_number, actor, created_at,
                            operational_day)
SELECT gen_random_uuid(), 'issuance', 'completed', 100000000000, 0, w.id, -w.n, 'bench', '2029-12-31T00:00:00+05',
       '2029-12-31' FROM w;
INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
SELECT o.id, e.account, e.amount, o.created_at, o.operational_day
FROM oson.operation o, LATERAL (VALUES (o.payee_account, o.amount),
                                       ('00000000-0000-4000-8000-00000000000a'::uuid, -o.amount)) e(account, amount)
WHERE o.kind = 'issuance' ORDER BY o.receipt_number DESC;
CREATE TEMP TABLE ops AS
SELECT gen_random_uuid() AS id, i,
       '2030-01-01T00:00:00+05'::timestamptz + (i::float8 / :operations) * interval '365 days' AS at,
       (100 + (i * 7919) % 500000)::bigint AS amount,
       1 + (i * 31) % :wallets AS payer, 1 + (i * 17 + 1) % :wallets AS payee
FROM generate_series(1::bigint, :operations) i;
INSERT INTO oson.operation (id, kind, status, amount, commission, payer_account, payee_account, receipt_number,
                            actor, created_at, operational_day)
SELECT o.id, 'payment', 'completed', o.amount, 0, a.id, b.id, o.i, 'bench', o.at,
       (o.at AT TIME ZONE 'Asia/Almaty')::date
FROM ops o JOIN w a ON a.n = o.payer JOIN w b ON b.n = o.payee ORDER BY o.i;
INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
SELECT e.operation_id, e.account_id, e.amount, e.created_at, e.operational_day FROM (
    SELECT id AS operation_id, payer_account AS account_id, -amount AS amount, created_at, operational_day,
           receipt_number, 1 AS side FROM oson.operation WHERE kind = 'payment'
    UNION ALL
    SELECT id, payee_account, amount, created_at, operational_day, receipt_number, 2 FROM oson.operation
    WHERE kind = 'payment'
) e ORDER BY e.receipt_number, e.side;
UPDATE oson.account a SET balance = s.total
FROM (SELECT account_id, sum(amount) AS total FROM oson.ledger_entry GROUP BY account_id) s
WHERE s.account_id = a.id AND a.kind = 'wallet';
"""


def timed(label: str, repeat: int, work: Callable[[], object], goal_ms: float | None = None) -> None:
    """Print the median and max time of ``repeat`` runs, the result's size, and whether the median meets the goal."""
    times = []
    result: object = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    size = len(result) if isinstance(result, list | bytes) else ""
    median = statistics.median(times)
    verdict = "" if goal_ms is None else f"goal {goal_ms:.0f} ms: {'met' if median < goal_ms else 'MISSED'}"
    print(f"{label:<62} median {median:8.1f} ms  max {max(times):8.1f} ms  {size!s:>9}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with bench_server(roles=PASSWORDS, database=DATABASE, owner=OWNER, runtime=RUNTIME) as server:
        settings = Settings(database_host="127.0.0.1", database_port=server.port, database_name=DATABASE,
                            database_user=RUNTIME, database_password=SecretStr(PASSWORDS[RUNTIME]),
                            database_owner_user=OWNER, database_owner_password=SecretStr(PASSWORDS[OWNER]),
                            database_sslmode="disable", database_statement_timeout_ms=600_000)
        upgrade(settings)
        started = time.perf_counter()
        with server.superuser(DATABASE) as conn:
            for statement in LOAD_SQL.replace(":operations", str(args.operations)).replace(
                    ":wallets", str(args.wallets)).split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")  # the load's writes reach the disk now, not during the timings
        print(f"loaded {args.operations} operations, {2 * args.operations} entries, {args.wallets} wallets "
              f"in {time.perf_counter() - started:.1f} s")
        engine = create_database_engine(settings, application_name="bench-records", pooled=False)
        operations, entries, wallets = get_list("operations"), get_list("ledger_entries"), get_list("wallets")
        with engine.connect() as conn:
            some_wallet = str(conn.execute(text(
                "SELECT id FROM oson.account WHERE kind = 'wallet' ORDER BY id LIMIT 1")).scalar_one())

            def page(spec: object, body: dict[str, object]) -> list[dict[str, object]]:
                return run_list(conn, spec, parse_query(spec, body)).rows  # type: ignore[arg-type]

            first = run_list(conn, operations, parse_query(operations, {"limit": 100}))
            timed("operations: newest 100", args.repeat, lambda: page(operations, {"limit": 100}), SEARCH_GOAL_MS)
            timed("operations: next page by cursor", args.repeat,
                  lambda: page(operations, {"limit": 100, "cursor": first.next_cursor}), SEARCH_GOAL_MS)
            big = {"filters": [{"field": "amount", "op": "gte", "value": "4000.00"}],
                   "sort": {"field": "amount", "direction": "desc"}, "limit": 100}
            timed("operations: amount >= 4000, sorted by amount desc", args.repeat, lambda: page(operations, big),
                  SEARCH_GOAL_MS)
            march = {"from": "2030-03-01T00:00:00+05:00", "to": "2030-03-02T00:00:00+05:00", "limit": 100,
                     "sort": {"field": "created_at", "direction": "asc"}}
            timed("operations: one day's first 100", args.repeat, lambda: page(operations, march), SEARCH_GOAL_MS)
            mine = {"filters": [{"field": "payer_account", "op": "eq", "value": some_wallet}], "limit": 100}
            timed("operations: one wallet's newest 100", args.repeat, lambda: page(operations, mine), SEARCH_GOAL_MS)
            timed("ledger entries: newest 100", args.repeat, lambda: page(entries, {"limit": 100}), SEARCH_GOAL_MS)
            as_of = {"filters": [{"field": "id", "op": "eq", "value": some_wallet}],
                     "as_of": "2030-07-01T00:00:00+05:00"}
            timed("wallets: one wallet as of 2030-07-01", args.repeat, lambda: page(wallets, as_of), SEARCH_GOAL_MS)
            month = Period(date(2030, 3, 1), date(2030, 3, 31))
            journal_runs = args.repeat
            timed("journal: general journal of March (document)", journal_runs,
                  lambda: list(journals.general_journal(conn, month, "ru").sections[0].rows), JOURNAL_GOAL_MS)
            timed("journal: general journal of March as CSV", journal_runs,
                  lambda: render(journals.general_journal(conn, month, "ru"), "csv").body, JOURNAL_GOAL_MS)
            timed("journal: turnover sheet of March (document)", journal_runs,
                  lambda: list(journals.turnover_sheet(conn, month, "ru").sections[0].rows), JOURNAL_GOAL_MS)
            timed("journal: turnover sheet of March as CSV", journal_runs,
                  lambda: render(journals.turnover_sheet(conn, month, "ru"), "csv").body, JOURNAL_GOAL_MS)
        engine.dispose()
    print(f"finished at {datetime.now(UTC).isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
