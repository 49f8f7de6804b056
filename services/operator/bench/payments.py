"""Benchmark: payments per second through the service, against the raw-SQL limit of the same database.

    python services/operator/bench/payments.py [--seconds 15] [--rounds 3] [--connections 32] [--workers 2]
        [--pool-size 16] [--money-pool-size 8] [--raw-clients N]

One run, one machine, one PostgreSQL with durable settings (fsync, full_page_writes and
synchronous_commit on, data checksums off like the tests' server is irrelevant here), the event log on,
and ``--rounds`` rounds of two measurements one after the other:

1. the service (``oson-operator`` under uvicorn, ``--workers`` processes) takes payments from ``wrk``
   (an HTTP load generator in C, so the generator costs little CPU), each with its own idempotency key,
   between random client wallets and partners, authenticated as an API client;
2. ``pgbench`` runs the equivalent ledger transaction in raw SQL on the same database (claim the
   idempotency key, lock both wallets, read the day's total, insert the operation, its entries and the
   new balances, append the chained event, store the answer, commit), with as many clients as the
   service has database connections for payments (``--raw-clients``).

It prints payments/s, p50/p99 latency, the raw-SQL transactions/s and the ratio, the CPU time per
payment (service, database, load generator; read from /proc) and how much of the machine other
programs used meanwhile, checks that the ledger invariants still hold, and writes the figures to
artifacts/bench-payments.json. Figures are medians over the rounds; the ratio is the median of the
rounds' ratios, each of two measurements taken one after the other, so that a machine whose speed
drifts moves both. It asserts nothing about speed: the figures are for reading (goal on a 2-core
machine: >= 1,000 payments/s and a ratio >= 0.5).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _pg import PG_BIN, BenchServer, bench_server
from pydantic import SecretStr
from sqlalchemy import text

from oson_operator.domain import passwords
from oson_operator.migrate import upgrade
from oson_operator.settings import Settings
from oson_operator.storage import access
from oson_operator.storage.engine import create_database_engine
from oson_operator.storage.ledger import COMMISSION_ACCOUNT, SPECIALIZED_ACCOUNT, check_ledger

REPO = Path(__file__).resolve().parents[3]
OWNER, RUNTIME, DATABASE = "oson_owner", "oson_app", "oson"

SEED_SQL = f"""
INSERT INTO oson.participant (id, kind, name, iin_bin, identification, created_at, created_by, tariff, legal_form)
SELECT gen_random_uuid(), 'issuer', 'Bench issuer', '000000000001', NULL, now(), 'bench', NULL, NULL;

CREATE TABLE public.bench_wallet (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE public.bench_partner (n int PRIMARY KEY, id uuid NOT NULL);

WITH people AS (
    INSERT INTO oson.participant (kind, name, iin_bin, identification, created_at, created_by)
    SELECT 'individual', 'Client ' || g, '1' || lpad(g::text, 11, '0'), 'identified', now(), 'bench'
    FROM generate_series(1, %(wallets)s) g RETURNING id, iin_bin
), wallets AS (
    INSERT INTO oson.account (kind, participant_id, issuer_id, created_at)
    SELECT 'wallet', p.id, (SELECT id FROM oson.participant WHERE kind = 'issuer'), now() FROM people p
    RETURNING id
)
INSERT INTO public.bench_wallet SELECT row_number() OVER (), id FROM wallets;

WITH shops AS (
    INSERT INTO oson.participant (kind, name, iin_bin, legal_form, tariff, created_at, created_by)
    SELECT 'partner', 'Shop ' || g, '2' || lpad(g::text, 11, '0'), 'legal_entity', 'oson_merchants', now(), 'bench'
    FROM generate_series(1, %(partners)s) g RETURNING id
), wallets AS (
    INSERT INTO oson.account (kind, participant_id, issuer_id, created_at)
    SELECT 'wallet', s.id, (SELECT id FROM oson.participant WHERE kind = 'issuer'), now() FROM shops s
    RETURNING id
)
INSERT INTO public.bench_partner SELECT row_number() OVER (), id FROM wallets;

-- Fund every client wallet with one issuance, posted like the service posts it.
CREATE TEMP TABLE funding AS SELECT gen_random_uuid() AS op, id AS wallet FROM public.bench_wallet;
INSERT INTO oson.operation (id, kind, status, amount, commission, payer_account, payee_account, receipt_number,
    actor, created_at, operational_day)
SELECT op, 'issuance', 'completed', 100000000000, 0, '{SPECIALIZED_ACCOUNT}', wallet, nextval('oson.receipt_number'),
    'bench', now(), current_date FROM funding;
INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
SELECT op, wallet, 100000000000, now(), current_date FROM funding
UNION ALL SELECT op, '{SPECIALIZED_ACCOUNT}', -100000000000, now(), current_date FROM funding;
UPDATE oson.account SET balance = 100000000000 WHERE id IN (SELECT wallet FROM funding);
GRANT SELECT ON public.bench_wallet, public.bench_partner TO {RUNTIME};
ANALYZE;
"""

# The service's payment transaction, statement for statement, in raw SQL (amount 1000.00 KZT,
# commission 2% + 200 = 220.00 KZT). pgbench substitutes :name variables even inside quotes, so the
# literals here carry no colons.
PGBENCH_SCRIPT = f"""
\\set p random(1, :wallets)
\\set q random(1, :partners)
SELECT gen_random_uuid() AS k, (SELECT id FROM public.bench_wallet WHERE n = :p) AS payer,
       (SELECT id FROM public.bench_partner WHERE n = :q) AS payee \\gset
BEGIN;
INSERT INTO oson.idempotency_key (actor, key, request_hash) VALUES ('client/pgbench', :k, 'h')
    ON CONFLICT (actor, key) DO NOTHING RETURNING 1;
SELECT a.id::text, a.balance, a.status, p.kind, p.status, p.identification, p.tariff
    FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id
    WHERE a.id = ANY(ARRAY[:payer, :payee]::uuid[]) AND a.kind = 'wallet' ORDER BY a.id FOR NO KEY UPDATE OF a;
SELECT coalesce(sum(amount), 0) FROM oson.operation WHERE payer_account = :payer AND operational_day = current_date
    AND status = 'completed' AND kind IN ('payment', 'transfer', 'redemption');
WITH op AS (
    INSERT INTO oson.operation (id, kind, status, amount, commission, payer_account, payee_account, receipt_number,
        details, actor, request_id, created_at, operational_day)
    VALUES (gen_random_uuid(), 'payment', 'completed', 100000, 22000, :payer, :payee,
        nextval('oson.receipt_number'), '{{"purpose": "goods"}}', 'client/pgbench', 'r', now(), current_date)
    RETURNING id
), entries AS (
    INSERT INTO oson.ledger_entry (operation_id, account_id, amount, created_at, operational_day)
    SELECT op.id, v.account, v.amount, now(), current_date FROM op,
        (VALUES (:payer::uuid, -122000::bigint), (:payee::uuid, 100000::bigint),
                ('{COMMISSION_ACCOUNT}'::uuid, 22000::bigint)) AS v(account, amount)
    RETURNING account_id, amount
), balances AS (
    UPDATE oson.account a SET balance = a.balance + s.delta
    FROM (SELECT account_id, sum(amount) AS delta FROM entries GROUP BY account_id) s
    WHERE a.id = s.account_id AND a.kind = 'wallet' RETURNING a.id
)
SELECT count(*) FROM balances;
INSERT INTO oson.event (started_at, ended_at, actor, action, record_type, record_id, result, source_address,
    request_id, details)
VALUES (now(), now(), 'client/pgbench', 'payment.create', 'operation', :k, 'ok', '127.0.0.1', 'r',
    '{{"status": 201}}');
UPDATE oson.idempotency_key SET status_code = 201, response = '{{"operation": {{"status": "completed"}}}}'
    WHERE actor = 'client/pgbench' AND key = :k;
COMMIT;
"""

WRK_SCRIPT = """
local wallets, partners = {}, {}
for line in io.lines("%(wallets)s") do wallets[#wallets + 1] = line end
for line in io.lines("%(partners)s") do partners[#partners + 1] = line end
local counter = 0
local created, other = 0, 0
local prefix = "%(prefix)s"

function setup(thread) thread:set("id", tostring(math.random(1, 1e9))) end

function request()
  counter = counter + 1
  local body = string.format(
    '{"payer_wallet_id":"%%s","payee_wallet_id":"%%s","amount":"1000.00","purpose":"goods"}',
    wallets[math.random(#wallets)], partners[math.random(#partners)])
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "%(auth)s",
                   ["Idempotency-Key"] = prefix .. "-" .. id .. "-" .. counter}
  return wrk.format("POST", "/api/payments", headers, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%%d errors=%%d p50_us=%%d p99_us=%%d duration_us=%%d\\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration))
end
"""


TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and its descendants, the exited ones included (a reaped child's
    time is in its parent's cutime/cstime)."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0) for pid in tree) / TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICKS, sum(values[:8]) / TICKS


class CpuMeter:
    """CPU seconds of the service, the database, the load generator and the rest of the machine over a run."""

    def __init__(self, service_pid: int | None, postmaster_pid: int) -> None:
        self.service_pid, self.postmaster_pid = service_pid, postmaster_pid
        self.start = self._read()

    def _read(self) -> tuple[float, float, float, float, float]:
        children = os.times()
        busy, total = machine_cpu()
        service = tree_cpu(self.service_pid) if self.service_pid is not None else 0.0
        return (service, tree_cpu(self.postmaster_pid), children.children_user + children.children_system,
                busy, total)

    def stop(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per unit of work (``count`` payments or transactions), and the machine's use."""
        end = self._read()
        service, database, generator, busy, total = (b - a for a, b in zip(self.start, end, strict=True))
        per = 1000 / max(count, 1)
        return {"service_cpu_ms": round(service * per, 2), "database_cpu_ms": round(database * per, 2),
                "generator_cpu_ms": round(generator * per, 2),
                "other_cpu_share": round(max(busy - service - database - generator, 0) / max(total, 1e-9), 2),
                "idle_cpu_share": round(max(total - busy, 0) / max(total, 1e-9), 2)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def durable_settings(server: BenchServer) -> dict[str, str]:
    """The server's durability settings (PostgreSQL's defaults, which this benchmark never weakens)."""
    with server.superuser() as conn:
        values = {name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                  for name in ("fsync", "full_page_writes", "synchronous_commit", "wal_sync_method")}
    if values["fsync"] != "on" or values["synchronous_commit"] != "on" or values["full_page_writes"] != "on":
        raise SystemExit(f"the benchmark server is not durable: {values}")
    return values


def completed_payments(settings: Settings) -> int:
    engine = create_database_engine(settings, pooled=False)
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM oson.operation WHERE kind = 'payment' "
                                     "AND status = 'completed' AND actor LIKE 'client:oc_%'")).scalar_one())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of service and raw SQL, alternately; the "
                        "figures are medians (the ratio the median of the rounds' ratios)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent HTTP connections (wrk)")
    parser.add_argument("--raw-clients", type=int, help="pgbench clients (default: as many as the service's "
                        "database connections for payments, --workers x --money-pool-size, or x --pool-size "
                        "with --money-pool-size 0)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-size", type=int, default=16, help="database connections (and threads) per worker")
    parser.add_argument("--money-pool-size", type=int, default=8, help="event-loop database connections per "
                        "worker for payments (0: payments take the threads)")
    parser.add_argument("--wallets", type=int, default=5000)
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--profile", type=Path, help="sample the service with py-spy during the run (raw "
                        "collapsed stacks to this file; pip install py-spy)")
    args = parser.parse_args(argv)
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            print(f"{tool} not found: apt-get install {tool} (scripts/host-setup.sh installs it)", file=sys.stderr)
            return 2
    pw = {OWNER: secrets.token_urlsafe(16), RUNTIME: secrets.token_urlsafe(16)}
    with bench_server(roles=pw, database=DATABASE, owner=OWNER, runtime=RUNTIME) as server:
        durability = durable_settings(server)
        print(f"durability: {durability}", flush=True)
        settings = Settings(database_host="127.0.0.1", database_port=server.port, database_name=DATABASE,
                            database_user=RUNTIME, database_password=SecretStr(pw[RUNTIME]),
                            database_owner_user=OWNER, database_owner_password=SecretStr(pw[OWNER]),
                            database_sslmode="disable")
        print("migrating and seeding ...", flush=True)
        upgrade(settings)
        with server.superuser(DATABASE) as conn:
            conn.execute(SEED_SQL % {"wallets": args.wallets, "partners": args.partners})  # type: ignore[arg-type]
            wallet_ids = [r[0] for r in conn.execute("SELECT id::text FROM public.bench_wallet ORDER BY n")]
            partner_ids = [r[0] for r in conn.execute("SELECT id::text FROM public.bench_partner ORDER BY n")]
        secret = passwords.new_token()
        with create_database_engine(settings, pooled=False).begin() as conn:
            client = access.insert_api_client(conn, name="bench", participant_id=None,
                                              secret_hash=passwords.token_digest(secret), now=datetime.now(UTC),
                                              created_by="bench")
        service = run_service(settings, args.workers, args.pool_size, args.money_pool_size)
        work = Path(tempfile.mkdtemp(prefix="oson-bench-"))
        try:
            figures = measure(args, settings, server, service, client.client_id, secret, wallet_ids, partner_ids,
                              work)
        finally:
            service.terminate()
            service.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    report(figures)
    return 0


def run_service(settings: Settings, workers: int, pool_size: int, money_pool_size: int) -> subprocess.Popen[bytes]:
    port = free_port()
    env = {**os.environ, "OSON_ENV_FILE": "/nonexistent/operator.env", "OSON_DATABASE_HOST": "127.0.0.1",
           "OSON_DATABASE_PORT": str(settings.database_port), "OSON_DATABASE_USER": RUNTIME,
           "OSON_DATABASE_PASSWORD": settings.database_password.get_secret_value(),
           "OSON_DATABASE_SSLMODE": "disable", "OSON_BIND_PORT": str(port), "OSON_WORKERS": str(workers),
           "OSON_DATABASE_POOL_SIZE": str(pool_size), "OSON_DATABASE_MONEY_POOL_SIZE": str(money_pool_size),
           "OSON_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "oson_operator", "serve"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                process.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("the service did not become healthy within 60 s")


def measure(args: argparse.Namespace, settings: Settings, server: BenchServer, service: subprocess.Popen[bytes],
            client_id: str, secret: str, wallet_ids: list[str], partner_ids: list[str],
            work: Path) -> dict[str, Any]:
    (work / "wallets.txt").write_text("\n".join(wallet_ids) + "\n")
    (work / "partners.txt").write_text("\n".join(partner_ids) + "\n")
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    bench_file = work / "payment.sql"
    bench_file.write_text(PGBENCH_SCRIPT)
    os.chmod(work, 0o755)
    os.chmod(bench_file, 0o644)
    base = service.base_url  # type: ignore[attr-defined]
    print("warming up the service ...", flush=True)
    subprocess.run(["wrk", "-t1", "-c8", "-d3s", "-s", str(wrk_script(work, "warmup", auth)), base],
                   capture_output=True, check=True)
    rounds: list[dict[str, float]] = []
    for number in range(1, args.rounds + 1):
        # The service and raw SQL alternate, so that both see the machine as it is in that round.
        print(f"round {number} of {args.rounds}: {args.seconds} s of payments through the service over "
              f"{args.connections} connections ...", flush=True)
        figures = service_run(args, settings, server, service, work, auth,
                              args.profile if number == 1 else None)
        print(f"round {number} of {args.rounds}: {args.seconds} s of the same transaction in raw SQL (pgbench) over "
              f"{raw_clients(args)} clients ...", flush=True)
        figures.update(raw_run(args, settings, server, bench_file, len(wallet_ids), len(partner_ids)))
        figures["ratio_to_raw_sql"] = round(figures["payments_per_s"] / figures["raw_sql_tps"], 3)
        print(f"round {number} of {args.rounds}: {figures['payments_per_s']:.0f} payments/s, "
              f"{figures['raw_sql_tps']:.0f} raw-SQL transactions/s, ratio {figures['ratio_to_raw_sql']:.2f}",
              flush=True)
        rounds.append(figures)

    with create_database_engine(settings, pooled=False).connect() as conn:
        check = check_ledger(conn)
        other_results = {str(r): int(n) for r, n in conn.execute(text(
            "SELECT result, count(*) FROM oson.event WHERE actor <> 'client/pgbench' AND result <> 'ok' "
            "GROUP BY result"))}
    if other_results:
        print(f"  answers other than ok, by event result: {other_results}", flush=True)
    medians = {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}
    return {
        **medians,
        "trial_balance": check.trial_balance, "wallet_mismatches": len(check.wallet_mismatches),
        "connections": args.connections, "workers": args.workers, "pool_size": args.pool_size,
        "money_pool_size": args.money_pool_size, "raw_clients": raw_clients(args), "seconds": args.seconds,
        "rounds": args.rounds, "cpus": os.cpu_count() or 0, "each_round": rounds,
    }


def wrk_script(work: Path, name: str, auth: str) -> Path:
    """A wrk script with its own idempotency key prefix: a key reused across runs would be (rightly) replayed."""
    path = work / f"{name}.lua"
    path.write_text(WRK_SCRIPT % {"wallets": work / "wallets.txt", "partners": work / "partners.txt",
                                  "auth": auth, "prefix": secrets.token_hex(8)})
    return path


def service_run(args: argparse.Namespace, settings: Settings, server: BenchServer, service: subprocess.Popen[bytes],
                work: Path, auth: str, profile: Path | None) -> dict[str, float]:
    script = wrk_script(work, "payments", auth)
    before = completed_payments(settings)
    meter = CpuMeter(service.pid, server.postmaster_pid())
    profiler = None
    if profile:
        # py-spy is usually installed next to this interpreter (pip install py-spy), not on PATH.
        spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        if spy is None:
            raise SystemExit("py-spy not found: pip install py-spy")
        # --gil: only samples holding the interpreter lock, i.e. where the service's Python CPU goes.
        profiler = subprocess.Popen([spy, "record", "--subprocesses", "--gil", "--nonblocking", "-r", "100", "-f",
                                     "raw", "-d", str(args.seconds), "-o", str(profile), "-p", str(service.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s",
                             "-s", str(script), service.base_url],  # type: ignore[attr-defined]
                            capture_output=True, text=True, check=True)
    match = re.search(r"RESULT requests=(\d+) errors=(\d+) p50_us=(\d+) p99_us=(\d+) duration_us=(\d+)",
                      result.stdout)
    if match is None:
        raise SystemExit(f"could not read wrk's result:\n{result.stdout}\n{result.stderr}")
    requests, errors, p50, p99, duration = (int(g) for g in match.groups())
    created = completed_payments(settings) - before
    cpu = meter.stop(created)
    if profiler is not None:
        profiler.wait(timeout=60)
    return {"payments": created, "requests": requests, "http_errors": errors,
            "payments_per_s": round(created / (duration / 1e6), 1), "p50_ms": round(p50 / 1000, 2),
            "p99_ms": round(p99 / 1000, 2), **{f"service_run_{k}": v for k, v in cpu.items()}}


def raw_run(args: argparse.Namespace, settings: Settings, server: BenchServer, bench_file: Path, wallets: int,
            partners: int) -> dict[str, float]:
    env = {**os.environ, "PGPASSWORD": settings.database_password.get_secret_value()}
    meter = CpuMeter(None, server.postmaster_pid())
    pgbench = subprocess.run(
        [str(PG_BIN / "pgbench"), "-h", "127.0.0.1", "-p", str(server.port), "-U", RUNTIME, "-n", "-M", "prepared",
         "-c", str(raw_clients(args)), "-j", "2", "-T", str(args.seconds), "-D", f"wallets={wallets}",
         "-D", f"partners={partners}", "-f", str(bench_file), DATABASE],
        capture_output=True, text=True, env=env, check=False)
    if pgbench.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{pgbench.stdout}\n{pgbench.stderr}")
    tps_match = re.search(r"tps = ([0-9.]+)", pgbench.stdout)
    done_match = re.search(r"number of transactions actually processed: (\d+)", pgbench.stdout)
    if tps_match is None or done_match is None:
        raise SystemExit(f"could not read pgbench's result:\n{pgbench.stdout}")
    cpu = meter.stop(int(done_match.group(1)))
    return {"raw_sql_tps": round(float(tps_match.group(1)), 1), **{f"raw_sql_run_{k}": v for k, v in cpu.items()}}


def raw_clients(args: argparse.Namespace) -> int:
    """pgbench's clients: by default as many as the database connections the service pays through, so
    that both measurements put the same number of transactions in flight (more makes PostgreSQL spend
    more CPU on each: the limit would read lower)."""
    if args.raw_clients:
        return int(args.raw_clients)
    return int(args.workers * (args.money_pool_size or args.pool_size))


def report(figures: dict[str, Any]) -> None:
    print()
    print(f"Payments benchmark (durable PostgreSQL, event log on; medians of {figures['rounds']} rounds)")
    print(f"  service:  {figures['payments_per_s']:.0f} payments/s  (p50 {figures['p50_ms']} ms, "
          f"p99 {figures['p99_ms']} ms; {figures['payments']} payments, "
          f"{figures['http_errors']} HTTP errors)")
    print(f"  raw SQL:  {figures['raw_sql_tps']:.0f} transactions/s (pgbench, the same ledger transaction)")
    ratios = ", ".join(f"{r['ratio_to_raw_sql']:.2f}" for r in figures["each_round"])
    print(f"  ratio:    {figures['ratio_to_raw_sql']:.2f}  (rounds: {ratios}; goal >= 0.5; goal >= 1000 payments/s)")
    print(f"  CPU per payment: service {figures['service_run_service_cpu_ms']} ms, database "
          f"{figures['service_run_database_cpu_ms']} ms, wrk {figures['service_run_generator_cpu_ms']} ms "
          f"(other programs used {figures['service_run_other_cpu_share']:.0%} of the machine, "
          f"{figures['service_run_idle_cpu_share']:.0%} idle)")
    print(f"  CPU per raw-SQL transaction: database {figures['raw_sql_run_database_cpu_ms']} ms, pgbench "
          f"{figures['raw_sql_run_generator_cpu_ms']} ms (other programs used "
          f"{figures['raw_sql_run_other_cpu_share']:.0%} of the machine, {figures['raw_sql_run_idle_cpu_share']:.0%} "
          "idle)")
    print(f"  ledger:   trial balance {figures['trial_balance']}, wallet mismatches {figures['wallet_mismatches']}")
    out = REPO / "artifacts" / "bench-payments.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"  written:  {out.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
