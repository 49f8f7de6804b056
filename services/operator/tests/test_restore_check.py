"""``oson-operator restore-check`` against real restored-looking databases.

One healthy database is built once through the API (issuance, payments, a refusal, a signed
checkpoint, then more operations after it). Every test works on a copy of it of its own
(``CREATE DATABASE ... TEMPLATE``), which it may break as the superuser with the guard triggers off.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from business_support import make_world, open_desk
from conftest import OWNER, PASSWORDS, RUNTIME, SCHEMA_HEAD, PostgresServer, free_port
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from events_support import runtime_engine, scratch_database, superuser_tamper
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from oson_operator.cli import main
from oson_operator.domain.event_chain import public_key_pem
from oson_operator.restore.connect import parse_database_url, restore_engine
from oson_operator.restore.expected import ExpectationsError, load_expected_operations
from oson_operator.storage.events import write_checkpoint
from oson_operator.storage.ledger import SPECIALIZED_ACCOUNT

CHECKS = ["schema_head", "trial_balance", "wallet_balances", "event_log", "expected_operations"]


@dataclass(frozen=True)
class Healthy:
    """The template database and what was done to it."""

    server: PostgresServer
    database: str
    public_key: Path
    completed: list[str]  # ids of completed operations, oldest first
    refused: str
    wallets: dict[str, int]  # wallet id -> balance in tiyn, as the API reported it
    events_at_checkpoint: int
    events: int
    checkpoint_id: int


def _tiyn(amount: str) -> int:
    return int(Decimal(amount) * 100)


@pytest.fixture(scope="module")
def healthy(pg: PostgresServer, first_upgrade: dict[str, object],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Healthy]:
    if not pg.is_running():
        pg.start()
    key = Ed25519PrivateKey.generate()
    public_key = tmp_path_factory.mktemp("restore-keys") / "event-signing.pub.pem"
    public_key.write_text(public_key_pem(key.public_key()))
    with scratch_database(pg) as settings:
        with open_desk(settings) as desk:
            world = make_world(desk, funds=None)
            completed = [desk.issue(world.client_wallet, "10000.00")["operation"]["id"]]
            completed.append(desk.pay(world.client_wallet, world.partner_wallet, "1000.00",
                                      expect=201).json()["operation"]["id"])
            refused = desk.pay(world.client_wallet, world.partner_wallet, "999999.00").json()
            assert refused["operation"]["status"] == "refused"
            with runtime_engine(settings) as engine:
                checkpoint = write_checkpoint(engine, key)
                assert checkpoint is not None
                events_at_checkpoint = sum(head.seq for head in checkpoint.heads.values())
                # After the checkpoint: hash-checked, not yet signed.
                completed.append(desk.pay(world.client_wallet, world.partner_wallet, "250.00",
                                          expect=201).json()["operation"]["id"])
                with engine.connect() as conn:
                    events = conn.execute(text("SELECT count(*) FROM oson.event")).scalar_one()
            wallets = {wallet: _tiyn(desk.balance(wallet)) for wallet in (world.client_wallet, world.partner_wallet)}
        yield Healthy(pg, settings.database_name, public_key, completed, refused["operation"]["id"], wallets,
                      events_at_checkpoint, int(events), checkpoint.id)


@contextmanager
def restored(healthy: Healthy) -> Iterator[str]:
    """A copy of the healthy database (as a restore would give); yields its name, dropped after."""
    name = f"oson_rc_{secrets.token_hex(4)}"
    with healthy.server.superuser() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(healthy.database), sql.Identifier(OWNER)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name),
                                                                         sql.Identifier(RUNTIME)))
    try:
        yield name
    finally:
        with healthy.server.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def url_of(server: PostgresServer, database: str, *, password: str | None = None, port: int | None = None) -> str:
    secret = quote(PASSWORDS[RUNTIME] if password is None else password, safe="")
    return f"postgresql://{RUNTIME}:{secret}@127.0.0.1:{port or server.port}/{database}"


def superuser_url(server: PostgresServer, database: str) -> str:
    """The superuser over the unix socket (how a scratch instance is often reached)."""
    return f"postgresql://postgres@/{database}?host={quote(str(server.socket_dir), safe='')}&port={server.port}"


def check(capsys: pytest.CaptureFixture[str], url: str, *args: str | Path) -> tuple[int, dict, str]:
    """Run the command in-process with --json; (exit code, the JSON report, stderr)."""
    code = main(["restore-check", "--database-url", url, "--json", *map(str, args)])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else {}, err


def by_name(report: dict) -> dict[str, dict]:
    return {item["name"]: item for item in report["checks"]}


def failed(report: dict) -> list[str]:
    return [item["name"] for item in report["checks"] if not item["ok"]]


def ids_file(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(f"{operation_id}\n" for operation_id in ids))
    return path


def test_a_healthy_restore_passes_every_check(healthy: Healthy, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    expect = ids_file(tmp_path / "acknowledged.txt", healthy.completed)
    with restored(healthy) as database:
        code, report, err = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key,
                                  "--expect-operations", expect)
    assert code == 0, json.dumps(report, indent=1) + err
    assert report["ok"] is True and report["warnings"] == []
    assert [item["name"] for item in report["checks"]] == CHECKS
    assert all(item["ok"] and item["detail"] for item in report["checks"])
    assert all(set(item) == {"name", "ok", "detail", "figures"} for item in report["checks"])
    checks = by_name(report)
    assert checks["schema_head"]["figures"]["schema_version"] == SCHEMA_HEAD
    ledger = checks["trial_balance"]["figures"]
    assert ledger["trial_balance"] == 0
    assert ledger["wallets_total"] == sum(healthy.wallets.values())
    assert checks["wallet_balances"]["figures"]["mismatches"] == 0
    assert checks["wallet_balances"]["figures"]["wallets"] == len(healthy.wallets)
    events = checks["event_log"]["figures"]
    assert events["events"] == healthy.events and events["signatures_checked"] is True
    assert events["latest_checkpoint"]["id"] == healthy.checkpoint_id
    assert events["events_after_checkpoint"] == healthy.events - healthy.events_at_checkpoint > 0
    assert f"last signed checkpoint {healthy.checkpoint_id} of" in checks["event_log"]["detail"]
    expected = checks["expected_operations"]["figures"]
    assert (expected["expected"], expected["completed"], expected["missing"]) == (len(healthy.completed),) * 2 + (0,)
    facts = report["database"]
    assert facts["name"] == database and facts["user"] == RUNTIME
    assert facts["server_version"].startswith("15") and facts["size_bytes"] > 1_000_000
    assert facts["operations"] == len(healthy.completed) + 1  # and the refusal
    assert datetime.fromisoformat(facts["last_operation_at"]) > datetime.now(UTC) - timedelta(hours=1)


def test_the_installed_command_prints_one_line_per_check(healthy: Healthy) -> None:
    with restored(healthy) as database:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OSON_ENV_FILE": "/nonexistent/operator.env"}
        result = subprocess.run(
            [sys.executable, "-m", "oson_operator.cli", "restore-check", "--database-url",
             url_of(healthy.server, database), "--public-key", str(healthy.public_key)],
            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [f"ok   {name}" for name in CHECKS[:4]]
    assert lines[4].startswith(f"restore check passed: 4 checks ok (database {database} as {RUNTIME}")


def test_a_changed_ledger_entry_fails_the_trial_balance(healthy: Healthy, capsys: pytest.CaptureFixture[str]) -> None:
    with restored(healthy) as database:
        with healthy.server.superuser(database) as conn:
            entry, operation = conn.execute(
                "SELECT id, operation_id::text FROM oson.ledger_entry WHERE account_id = %s ORDER BY id LIMIT 1",
                (SPECIALIZED_ACCOUNT,)).fetchone()
        superuser_tamper(healthy.server, database, f"UPDATE oson.ledger_entry SET amount = amount - 100 "
                         f"WHERE id = {entry}")
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key)
    assert code == 1 and report["ok"] is False
    assert failed(report) == ["trial_balance"]
    figures = by_name(report)["trial_balance"]["figures"]
    assert figures["trial_balance"] == -100
    assert figures["unbalanced_operation_ids"] == [operation]
    assert "sum to -1.00 KZT, not 0" in by_name(report)["trial_balance"]["detail"]


def test_a_changed_wallet_balance_is_named_with_both_figures(healthy: Healthy,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    wallet, balance = next(iter(healthy.wallets.items()))
    with restored(healthy) as database:
        superuser_tamper(healthy.server, database,
                         f"UPDATE oson.account SET balance = balance + 7 WHERE id = '{wallet}'")
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key)
    assert code == 1
    assert failed(report) == ["wallet_balances"]
    result = by_name(report)["wallet_balances"]
    assert result["figures"]["first_mismatches"] == [{"wallet_id": wallet, "balance": balance + 7,
                                                       "entries_sum": balance}]
    assert wallet in result["detail"]


def test_an_edited_event_fails_the_event_log(healthy: Healthy, capsys: pytest.CaptureFixture[str]) -> None:
    with restored(healthy) as database:
        with healthy.server.superuser(database) as conn:
            (event,) = conn.execute("SELECT min(id) FROM oson.event").fetchone()
        superuser_tamper(healthy.server, database, f"UPDATE oson.event SET actor = 'staff:mallory' WHERE id = {event}")
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key)
    assert code == 1
    assert failed(report) == ["event_log"]
    problem = by_name(report)["event_log"]["figures"]["first_problems"][0]
    assert (problem["kind"], problem["event_id"]) == ("hash_mismatch", event)


def test_a_wrong_public_key_fails_the_event_log(healthy: Healthy, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    with restored(healthy) as database:
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", other)
    assert code == 1
    assert failed(report) == ["event_log"]
    assert by_name(report)["event_log"]["figures"]["first_problems"][0]["kind"] == "checkpoint_unknown_key"


def test_an_older_schema_fails_the_schema_check(healthy: Healthy, capsys: pytest.CaptureFixture[str]) -> None:
    with restored(healthy) as database:
        superuser_tamper(healthy.server, database, "UPDATE oson.app_meta SET value = '0003' "
                         "WHERE key = 'schema_version'")
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key)
        # A superuser also reads Alembic's own record, which still says head.
        as_superuser = check(capsys, superuser_url(healthy.server, database), "--public-key", healthy.public_key)
    assert code == 1
    assert failed(report) == ["schema_head"]
    assert by_name(report)["schema_head"]["figures"] == {"expected": SCHEMA_HEAD, "schema_version": "0003",
                                                         "alembic_version": None}
    assert as_superuser[0] == 1 and failed(as_superuser[1]) == ["schema_head"]
    assert by_name(as_superuser[1])["schema_head"]["figures"]["alembic_version"] == SCHEMA_HEAD
    assert f"oson.alembic_version says {SCHEMA_HEAD}" in by_name(as_superuser[1])["schema_head"]["detail"]


def test_an_empty_database_fails_and_says_so(healthy: Healthy, capsys: pytest.CaptureFixture[str]) -> None:
    name = f"oson_rc_empty_{secrets.token_hex(4)}"
    server = healthy.server
    with server.superuser() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        code, report, _ = check(capsys, superuser_url(server, name), "--public-key", healthy.public_key)
    finally:
        with server.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    assert code == 1
    assert failed(report) == CHECKS[:4]
    assert "schema oson is not there" in by_name(report)["schema_head"]["detail"]
    assert "could not run" in by_name(report)["trial_balance"]["detail"]


def test_expected_operations_missing_refused_and_repeated(healthy: Healthy, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    lost = str(uuid.uuid4())
    expect = ids_file(tmp_path / "ack.txt", [*healthy.completed, healthy.completed[0].upper(), lost,
                                             healthy.refused])
    with restored(healthy) as database:
        code, report, _ = check(capsys, url_of(healthy.server, database), "--public-key", healthy.public_key,
                                "--expect-operations", expect)
    assert code == 1
    assert failed(report) == ["expected_operations"]
    result = by_name(report)["expected_operations"]
    figures = result["figures"]
    assert figures["records"] == len(healthy.completed) + 3
    assert (figures["missing"], figures["first_missing"]) == (1, [lost])
    assert figures["first_not_completed"] == [{"operation_id": healthy.refused, "status": "refused"}]
    assert figures["first_duplicates"] == [{"operation_id": healthy.completed[0], "times": 2}]
    assert lost in result["detail"]


def test_expect_after_leaves_out_what_was_acknowledged_later(healthy: Healthy, capsys: pytest.CaptureFixture[str],
                                                              tmp_path: Path) -> None:
    target = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    before = [{"operation_id": op, "acknowledged_at": (target - timedelta(seconds=n)).isoformat()}
              for n, op in enumerate(healthy.completed)]
    later = [{"operation_id": str(uuid.uuid4()), "acknowledged_at": (target + timedelta(microseconds=n + 1))
              .isoformat().replace("+00:00", "Z")} for n in range(3)]
    jsonl = tmp_path / "ack.jsonl"
    jsonl.write_text("".join(json.dumps(record) + "\n" for record in before + later))
    at_target = tmp_path / "at-target.jsonl"
    at_target.write_text(json.dumps({"operation_id": str(uuid.uuid4()), "acknowledged_at": target.isoformat()}))
    plain = ids_file(tmp_path / "ack.txt", healthy.completed)
    with restored(healthy) as database:
        url = url_of(healthy.server, database)
        everything = check(capsys, url, "--public-key", healthy.public_key, "--expect-operations", jsonl)
        limited = check(capsys, url, "--public-key", healthy.public_key, "--expect-operations", jsonl,
                        "--expect-after", "2026-06-10T17:00:00+05:00")
        boundary = check(capsys, url, "--public-key", healthy.public_key, "--expect-operations", at_target,
                         "--expect-after", target.isoformat())
        ignored = check(capsys, url, "--public-key", healthy.public_key, "--expect-operations", plain,
                        "--expect-after", target.isoformat())
    assert everything[0] == 1 and by_name(everything[1])["expected_operations"]["figures"]["missing"] == 3
    assert limited[0] == 0, limited[1]
    figures = by_name(limited[1])["expected_operations"]["figures"]
    assert (figures["expected"], figures["excluded_after_until"]) == (len(healthy.completed), 3)
    assert datetime.fromisoformat(figures["acknowledged_until"]) == target
    assert boundary[0] == 1  # acknowledged exactly at the target: expected
    assert ignored[0] == 0 and "--expect-after is ignored" in ignored[2]
    assert ignored[1]["warnings"] and "--expect-after is ignored" in ignored[1]["warnings"][0]


def test_connection_failures_exit_2_with_the_next_step(healthy: Healthy, capsys: pytest.CaptureFixture[str]) -> None:
    closed = free_port()
    code, _, err = check(capsys, url_of(healthy.server, "oson", port=closed), "--public-key", healthy.public_key)
    assert code == 2
    assert f"cannot connect to postgresql://{RUNTIME}:***@127.0.0.1:{closed}/oson" in err
    assert "is the scratch instance running?" in err and "Traceback" not in err
    assert quote(PASSWORDS[RUNTIME], safe="") not in err
    code, _, err = check(capsys, url_of(healthy.server, healthy.database, password="wrong"), "--public-key",
                         healthy.public_key)
    assert code == 2 and "check the user and password" in err
    code, _, err = check(capsys, url_of(healthy.server, "no_such_db"), "--public-key", healthy.public_key)
    assert code == 2 and "check the database name" in err
    code, _, err = check(capsys, "mysql://x@127.0.0.1/oson", "--public-key", healthy.public_key)
    assert code == 2 and "not a PostgreSQL URL" in err


def test_usage_errors_exit_2(healthy: Healthy, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = url_of(healthy.server, healthy.database)
    code, _, err = check(capsys, url)
    assert code == 2 and "oson-operator events keygen" in err and "vault" in err
    code, _, err = check(capsys, url, "--public-key", tmp_path / "missing.pem")
    assert code == 2 and "cannot read the public key" in err
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{uuid.uuid4()}\nnot-an-id\n")
    code, _, err = check(capsys, url, "--public-key", healthy.public_key, "--expect-operations", bad)
    assert code == 2 and f"{bad} line 2" in err
    code, _, err = check(capsys, url, "--public-key", healthy.public_key, "--expect-after", "2026-06-10T12:00:00Z")
    assert code == 2 and "pass the file too" in err
    with pytest.raises(SystemExit) as exited:
        main(["restore-check", "--database-url", url, "--expect-after", "2026-06-10T12:00:00"])
    assert exited.value.code == 2 and "no UTC offset" in capsys.readouterr().err


def test_the_connection_is_read_only(healthy: Healthy) -> None:
    engine = restore_engine(parse_database_url(url_of(healthy.server, healthy.database)))
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as refused:
            # The runtime login may update balances; the read-only session may not.
            conn.execute(text("UPDATE oson.account SET balance = balance WHERE kind = 'wallet'"))
    finally:
        engine.dispose()
    assert isinstance(refused.value.orig, psycopg.errors.ReadOnlySqlTransaction)


# --- The expectations file alone -------------------------------------------------------------------


def test_expectations_formats(tmp_path: Path) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    plain = tmp_path / "ids.txt"
    plain.write_text(f"# acknowledged\n\n{first}\n {second.upper()} \n{first}\n")
    ids = load_expected_operations(plain)
    assert (ids.format, ids.ids, ids.records, ids.duplicates) == ("ids", [first, second], 3, {first: 2})
    jsonl = tmp_path / "ids.jsonl"
    until = datetime(2026, 1, 1, tzinfo=UTC)
    jsonl.write_text(
        json.dumps({"operation_id": first, "acknowledged_at": "2026-01-01T05:00:00+05:00", "extra": 1}) + "\n"
        + json.dumps({"operation_id": second, "acknowledged_at": "2026-01-01T00:00:00.000001Z"}) + "\n"
        + json.dumps({"operation_id": second, "acknowledged_at": "2026-01-01T00:00:01Z"}) + "\n")
    limited = load_expected_operations(jsonl, until=until)
    assert (limited.format, limited.ids, limited.later, limited.duplicates) == ("jsonl", [first], 1, {second: 2})
    assert load_expected_operations(jsonl).ids == [first, second]


@pytest.mark.parametrize(("content", "message"), [
    ("", "holds no operation ids"),
    ('{"operation_id": "%s"}\n%s\n', "mixes plain ids and JSON lines"),
    ('{"id": "%s"}\n', '"operation_id" field'),
    ('{"operation_id": 12}\n', "must be a string"),
    ("{not json\n", "not JSON"),
])
def test_expectations_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "ack"
    path.write_text(content.replace("%s", str(uuid.uuid4())))
    with pytest.raises(ExpectationsError, match=message):
        load_expected_operations(path)


def test_expect_after_needs_times_on_every_json_line(tmp_path: Path) -> None:
    path = tmp_path / "ack.jsonl"
    path.write_text(json.dumps({"operation_id": str(uuid.uuid4())}) + "\n")
    with pytest.raises(ExpectationsError, match="line 1: no \"acknowledged_at\""):
        load_expected_operations(path, until=datetime(2026, 1, 1, tzinfo=UTC))
    path.write_text(json.dumps({"operation_id": str(uuid.uuid4()), "acknowledged_at": "2026-01-01T00:00:00"}))
    with pytest.raises(ExpectationsError, match="no UTC offset"):
        load_expected_operations(path, until=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ExpectationsError, match="cannot read"):
        load_expected_operations(tmp_path / "absent.jsonl")
