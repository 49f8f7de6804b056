"""Benchmark: event-log time-range queries stay flat as the log grows; append throughput.

    python services/operator/bench/event_query.py [--rows N] [--sample N] [--threads T] [--appends A]

Starts its own PostgreSQL 15 (bench/_pg.py), migrates it, then:

1. ``append_event`` throughput: T threads, A one-event transactions each (the trigger path, as the
   service writes);
2. fills ``oson.event`` in time order with N rows spread over 5 years (2021..2025). The first
   ``--sample`` rows go through the chaining trigger; the rest are bulk-inserted with the trigger off
   (placeholder hashes in chains of their own: they are not a valid chain, only query load);
3. times a one-day and a one-month query (the API's page of 100 newest, and every row of the
   range) when 10% of the rows are in, and again at 100%. The day and month lie in the first
   10%, so both stages return the same rows from a table ten times larger: the ratio shows whether
   the time-range query stays flat.

4. times ``verify_event_log`` over the whole table.

It prints figures; it asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # oson_operator from this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pg import bench_server

from oson_operator.domain.events import EventDraft
from oson_operator.migrate import upgrade
from oson_operator.settings import Settings
from oson_operator.storage import events as store
from oson_operator.storage.engine import create_database_engine

OWNER, RUNTIME, DATABASE = "oson_owner", "oson_app", "oson"
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_DAYS = 1826  # five years
DAY = (datetime(2021, 3, 15, tzinfo=UTC), datetime(2021, 3, 16, tzinfo=UTC))
MONTH = (datetime(2021, 4, 1, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC))
RUNS = 7

_ROWS = """
SELECT {chain_columns} ts, ts + interval '40 ms', ts + interval '41 ms',
       'staff:user' || (i % 50), (ARRAY['payment.create', 'auth.login', 'wallet.open', 'http POST /api/x'])[1 + i % 4],
       'operation', 'op-' || i, CASE WHEN i % 10 = 0 THEN 'refused:LIMIT_PER_DAY' ELSE 'ok' END,
       '10.0.' || (i % 250) || '.' || (i % 200), md5(i::text), jsonb_build_object('n', i, 'amount', i % 100000)
  FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint) - 1) AS i,
       LATERAL (SELECT timestamptz '2021-01-01 00:00+00' + (i::float8 / :n) * interval '{days} days' AS ts) t
"""
_COLUMNS = ("started_at, ended_at, recorded_at, actor, action, record_type, record_id, result, source_address, "
            "request_id, details")


def fill(connection: Connection, lo: int, hi: int, total: int, *, through_trigger: bool) -> None:
    """Rows lo..hi-1 of ``total``, evenly spread over five years in id order."""
    if through_trigger:
        statement = (f"INSERT INTO oson.event ({_COLUMNS}) "
                     + _ROWS.format(chain_columns="", days=SPAN_DAYS))
    else:
        # Chains of their own with seqs far above the triggered ones; placeholder hashes.
        statement = (f"INSERT INTO oson.event (chain, chain_seq, prev_hash, hash, {_COLUMNS}) "
                     + _ROWS.format(chain_columns="(i % 16)::smallint, 1000000000000 + i, '\\x00'::bytea, "
                                    "'\\x00'::bytea,", days=SPAN_DAYS))
    connection.execute(text(statement), {"lo": lo, "hi": hi, "n": total})


def timed(action) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def measure(settings: Settings) -> dict[str, tuple[float, int]]:
    """Median milliseconds and row count of each query, as the runtime login."""
    engine = create_database_engine(settings, pooled=False)
    results: dict[str, tuple[float, int]] = {}
    try:
        with engine.connect() as conn:
            for name, (lo, hi) in (("day", DAY), ("month", MONTH)):
                page_filter = store.EventFilter(started_from=lo, started_to=hi)
                rows = store.list_events(conn, page_filter, limit=100)
                seconds = timed(lambda f=page_filter: store.list_events(conn, f, limit=100))
                results[f"{name}: API page of 100 newest"] = (seconds * 1000, len(rows))
                query = text("SELECT id, started_at, actor, action, record_type, record_id, result, details "
                             "FROM oson.event WHERE started_at >= :lo AND started_at < :hi ORDER BY started_at")
                count = len(conn.execute(query, {"lo": lo, "hi": hi}).all())
                seconds = timed(lambda q=query, a=lo, b=hi: conn.execute(q, {"lo": a, "hi": b}).all())
                results[f"{name}: every row of the range"] = (seconds * 1000, count)
            plan = conn.execute(text(
                "EXPLAIN SELECT id FROM oson.event WHERE started_at >= :lo AND started_at < :hi "
                "ORDER BY started_at DESC, id DESC LIMIT 100"), {"lo": DAY[0], "hi": DAY[1]}).scalars().all()
            print("    plan of the day page: " + " / ".join(line.strip() for line in plan[:3]))
    finally:
        engine.dispose()
    return results


def verify_walk(settings: Settings) -> None:
    """Time ``verify_event_log`` over the whole table (the bulk rows fail at once: only rows up to the
    first bulk row of each chain are hashed, so the figure per hashed row is the one that matters)."""
    engine = create_database_engine(settings, pooled=False)
    try:
        began = time.perf_counter()
        report = store.verify_event_log(engine, None)
        elapsed = time.perf_counter() - began
    finally:
        engine.dispose()
    hashed = sum(chain.last_seq for chain in report.chains)
    print(f"verify: read {report.events_checked:,} rows and hashed {hashed:,} (the chained ones) in "
          f"{elapsed:.1f} s, {elapsed / max(report.events_checked, 1) * 1e6:.1f} us per row read")


def append_throughput(settings: Settings, threads: int, per_thread: int) -> float:
    engine = create_database_engine(settings.model_copy(update={"database_pool_size": threads}))
    failures: list[BaseException] = []
    moment = datetime.now(UTC)

    def writer(number: int) -> None:
        try:
            for i in range(per_thread):
                with engine.begin() as conn:
                    store.append_event(conn, EventDraft(
                        action="bench.append", actor=f"staff:bench{number}", result="ok", started_at=moment,
                        ended_at=moment, record_type="operation", record_id=f"{number}-{i}",
                        details={"i": i}))
        except BaseException as exc:
            failures.append(exc)

    try:
        with engine.connect():  # open the pool before the clock starts
            pass
        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - began
    finally:
        engine.dispose()
    if failures:
        raise failures[0]
    return threads * per_thread / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the full table (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=20_000, help="rows written through the chaining trigger")
    parser.add_argument("--threads", type=int, default=8, help="concurrent append_event writers")
    parser.add_argument("--appends", type=int, default=500, help="one-event transactions per writer")
    args = parser.parse_args(argv)
    if args.rows < 100 or not 0 <= args.sample <= args.rows // 10:
        parser.error("--rows must be >= 100 and --sample at most a tenth of it")

    passwords = {OWNER: secrets.token_urlsafe(16), RUNTIME: secrets.token_urlsafe(16)}
    with bench_server(roles=passwords, database=DATABASE, owner=OWNER, runtime=RUNTIME) as server:
        settings = Settings(database_host="127.0.0.1", database_port=server.port, database_name=DATABASE,
                            database_user=RUNTIME, database_password=SecretStr(passwords[RUNTIME]),
                            database_owner_user=OWNER, database_owner_password=SecretStr(passwords[OWNER]),
                            database_sslmode="disable", database_statement_timeout_ms=600_000)
        upgrade(settings)
        print(f"PostgreSQL on 127.0.0.1:{server.port}, migrated")

        rate = append_throughput(settings, args.threads, args.appends)
        print(f"append_event: {rate:,.0f} events/s ({args.threads} threads x {args.appends} one-event "
              "transactions, fsync on)")

        owner_engine = create_database_engine(settings, user=OWNER, password=SecretStr(passwords[OWNER]),
                                              pooled=False)
        tenth = args.rows // 10
        stages: list[tuple[int, dict[str, tuple[float, int]]]] = []
        try:
            for lo, hi in ((0, tenth), (tenth, args.rows)):
                began = time.perf_counter()
                with owner_engine.begin() as conn:
                    conn.execute(text("SET LOCAL statement_timeout = 0"))
                    sample_hi = min(hi, args.sample) if lo == 0 else lo
                    if sample_hi > lo:
                        fill(conn, lo, sample_hi, args.rows, through_trigger=True)
                    conn.execute(text("ALTER TABLE oson.event DISABLE TRIGGER event_chain_append"))
                    for chunk in range(sample_hi, hi, 200_000):
                        fill(conn, chunk, min(chunk + 200_000, hi), args.rows, through_trigger=False)
                    conn.execute(text("ALTER TABLE oson.event ENABLE TRIGGER event_chain_append"))
                with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE oson.event"))
                    in_table = conn.execute(text("SELECT count(*) FROM oson.event")).scalar_one()
                print(f"filled to {in_table:,} rows in {time.perf_counter() - began:.1f} s "
                      f"(first {args.sample:,} through the trigger)")
                stages.append((in_table, measure(settings)))
        finally:
            owner_engine.dispose()
        verify_walk(settings)

    (small_rows, small), (large_rows, large) = stages
    day, month = DAY[0].date().isoformat(), f"{MONTH[0]:%Y-%m}"
    print(f"\nmedian of {RUNS} runs, ms (day {day}, month {month}; same rows returned at both sizes)")
    print(f"{'query':40} {'rows':>7} {small_rows:>12,} {large_rows:>12,} {'ratio':>7}")
    for name, (small_ms, returned) in small.items():
        large_ms, _ = large[name]
        print(f"{name:40} {returned:>7,} {small_ms:>12.2f} {large_ms:>12.2f} {large_ms / small_ms:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
