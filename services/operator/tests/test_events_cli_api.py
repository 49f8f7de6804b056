"""The event log from the outside: the CLI (exit codes), the HTTP routes, the background checkpointer."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from access_support import access_client, staff_headers
from conftest import PASSWORDS, RUNTIME, PostgresServer
from events_support import draft, runtime_engine, scratch_database, stored, superuser_tamper
from sqlalchemy import Engine, text

from oson_operator.api.checkpointer import run_checkpointer
from oson_operator.domain.access import Role
from oson_operator.settings import Settings
from oson_operator.storage.events import append_event


def _cli(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OSON_ENV_FILE": "/nonexistent/operator.env",
        "OSON_DATABASE_HOST": settings.database_host,
        "OSON_DATABASE_PORT": str(settings.database_port),
        "OSON_DATABASE_NAME": settings.database_name,
        "OSON_DATABASE_USER": RUNTIME,
        "OSON_DATABASE_PASSWORD": PASSWORDS[RUNTIME],
        "OSON_DATABASE_SSLMODE": "disable",
        **extra,
    }
    return subprocess.run([sys.executable, "-m", "oson_operator.cli", "events", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _append(settings: Settings, count: int, **overrides: object) -> list[int]:
    with runtime_engine(settings) as engine, engine.begin() as conn:
        return [append_event(conn, draft(n, **overrides)) for n in range(count)]


def test_cli_keygen_checkpoint_verify_and_a_damaged_log(running_pg: PostgresServer, tmp_path: Path) -> None:
    key_file, exported = tmp_path / "signing.pem", tmp_path / "checkpoints"
    with scratch_database(running_pg) as settings:
        made = _cli(settings, "keygen", "--out", str(key_file))
        assert made.returncode == 0, made.stderr
        assert (key_file.stat().st_mode & 0o777) == 0o600
        assert made.stdout.startswith("-----BEGIN PUBLIC KEY-----")
        public_file = tmp_path / "public.pem"
        public_file.write_text(made.stdout)
        assert _cli(settings, "keygen", "--out", str(key_file)).returncode == 2  # never overwritten

        ids = _append(settings, 6)
        with_key = {"OSON_EVENT_SIGNING_KEY_FILE": str(key_file), "OSON_EVENT_CHECKPOINT_DIR": str(exported)}
        written = _cli(settings, "checkpoint", "--json", **with_key)
        assert written.returncode == 0, written.stderr
        assert sum(json.loads(written.stdout)["heads"].values()) == 6
        assert len(list(exported.glob("*.json"))) == 1

        # An auditor: the public key only, the exported files given explicitly.
        intact = _cli(settings, "verify", "--public-key", str(public_file), "--checkpoints", str(exported))
        assert intact.returncode == 0, intact.stdout + intact.stderr
        assert intact.stdout.startswith("event log intact: 6 events in 1 chains, 1 checkpoints (signatures checked)")

        superuser_tamper(running_pg, settings.database_name,
                         f"UPDATE oson.event SET actor = 'staff:mallory' WHERE id = {ids[2]}")
        damaged = _cli(settings, "verify", "--json", **with_key)
        assert damaged.returncode == 1, damaged.stderr
        report = json.loads(damaged.stdout)
        assert report["ok"] is False and report["checkpoint_files"] == str(exported)
        assert report["problems"][0]["kind"] == "hash_mismatch"
        assert report["problems"][0]["event_id"] == ids[2]
        human = _cli(settings, "verify", **with_key)
        assert human.returncode == 1
        assert f"first bad record: event id {ids[2]}" in human.stdout


def test_cli_config_errors_exit_2(running_pg: PostgresServer, tmp_path: Path) -> None:
    settings = running_pg.settings()
    missing = _cli(settings, "verify", "--public-key", str(tmp_path / "nope.pem"))
    assert missing.returncode == 2 and "cannot read the public key" in missing.stderr
    not_a_dir = _cli(settings, "verify", "--checkpoints", str(tmp_path / "nowhere"))
    assert not_a_dir.returncode == 2
    no_key = _cli(settings, "checkpoint")
    assert no_key.returncode == 2 and "OSON_EVENT_SIGNING_KEY_FILE is not set" in no_key.stderr
    bad_setting = _cli(settings, "verify", OSON_DATABASE_PORT="not-a-port")
    assert bad_setting.returncode == 2 and "OSON_DATABASE_PORT" in bad_setting.stderr
    refused = _cli(settings, "verify", OSON_DATABASE_PASSWORD="wrong")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_events_route_needs_a_reader(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    with access_client(settings) as client:
        assert client.get("/api/events").status_code == 401
        operator = staff_headers(client, settings, Role.OPERATOR)
        assert client.get("/api/events", headers=operator).status_code == 403
        assert client.get("/api/events/verify", headers=operator).status_code == 403


def test_events_route_filters_and_pages(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    actor = f"staff:filter-{secrets.token_hex(4)}"
    ids = _append(settings, 7, actor=actor)
    other = _append(settings, 1, actor=actor, result="denied")
    with access_client(settings) as client:
        auditor = staff_headers(client, settings, Role.AUDITOR)
        first = client.get("/api/events", params={"actor": actor, "result": "ok", "limit": 4}, headers=auditor)
        assert first.status_code == 200, first.text
        page = first.json()
        # Newest first: draft(n) starts n seconds after T0, so the highest n comes first.
        assert [e["id"] for e in page["events"]] == ids[::-1][:4]
        assert page["next_cursor"]
        second = client.get("/api/events", params={"actor": actor, "result": "ok", "limit": 4,
                                                   "cursor": page["next_cursor"]}, headers=auditor).json()
        assert [e["id"] for e in second["events"]] == ids[::-1][4:]
        assert second["next_cursor"] is None
        bad_cursor = client.get("/api/events", params={"cursor": "x:y"}, headers=auditor)
        assert bad_cursor.status_code == 422 and bad_cursor.json()["error"]["code"] == "EVENT_CURSOR_INVALID"
        event = second["events"][-1]
        assert event["actor"] == actor and event["record_type"] == "operation" and event["details"] == {"n": 0}
        assert len(event["hash"]) == 64

        # Time range: draft(n) starts at T0 + n seconds.
        t0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
        ranged = client.get("/api/events", headers=auditor, params={
            "actor": actor, "from": (t0 + timedelta(seconds=2)).isoformat(),
            "to": (t0 + timedelta(seconds=5)).isoformat()}).json()["events"]
        assert sorted(e["id"] for e in ranged) == sorted([ids[2], ids[3], ids[4]])
        denied = client.get("/api/events", params={"actor": actor, "result": "denied"}, headers=auditor).json()
        assert [e["id"] for e in denied["events"]] == other
        by_record = client.get("/api/events", params={"record_type": "operation", "record_id": "op-3",
                                                      "actor": actor}, headers=auditor).json()
        assert [e["id"] for e in by_record["events"]] == [ids[3]]

        backwards = client.get("/api/events", headers=auditor, params={
            "from": t0.isoformat(), "to": (t0 - timedelta(days=1)).isoformat()})
        assert backwards.status_code == 422
        assert backwards.json()["error"]["code"] == "EVENT_RANGE_INVALID"
        assert client.get("/api/events", params={"limit": 501}, headers=auditor).status_code == 422


def test_verify_route_reports_and_is_itself_recorded(running_pg: PostgresServer, tmp_path: Path) -> None:
    key_file = tmp_path / "k.pem"
    with scratch_database(running_pg) as base:
        assert _cli(base, "keygen", "--out", str(key_file)).returncode == 0
        settings = base.model_copy(update={"event_signing_key_file": key_file,
                                           "event_checkpoint_dir": tmp_path})
        ids = _append(settings, 3)
        assert _cli(settings, "checkpoint", OSON_EVENT_SIGNING_KEY_FILE=str(key_file),
                    OSON_EVENT_CHECKPOINT_DIR=str(tmp_path)).returncode == 0
        with access_client(settings) as client:
            admin = staff_headers(client, settings, Role.ADMIN)
            ok = client.get("/api/events/verify", headers=admin)
            assert ok.status_code == 200, ok.text
            body = ok.json()
            assert body["ok"] is True and body["signatures_checked"] is True
            assert body["checkpoints_checked"] == 1 and body["checkpoint_files_checked"] == 1
            superuser_tamper(running_pg, settings.database_name, f"DELETE FROM oson.event WHERE id = {ids[1]}")
            bad = client.get("/api/events/verify", headers=admin).json()
            assert bad["ok"] is False
            assert bad["problems"][0]["kind"] == "gap" and bad["problems"][0]["event_id"] == ids[2]
        with runtime_engine(settings) as engine, engine.connect() as conn:
            results = conn.execute(text(
                "SELECT result FROM oson.event WHERE action = 'events.verify' ORDER BY id")).scalars().all()
        assert results == ["ok", "failed"]


def test_background_checkpointer_writes_only_when_there_is_news(running_pg: PostgresServer, tmp_path: Path) -> None:
    key_file = tmp_path / "k.pem"
    with scratch_database(running_pg) as base:
        assert _cli(base, "keygen", "--out", str(key_file)).returncode == 0
        settings = base.model_copy(update={"event_signing_key_file": key_file, "event_checkpoint_dir": tmp_path,
                                           "event_checkpoint_interval_seconds": 0.05})
        _append(settings, 2)

        async def scenario() -> None:
            with runtime_engine(settings) as engine:
                stop = asyncio.Event()
                state = SimpleNamespace(settings=settings, engine=engine)
                task = asyncio.create_task(run_checkpointer(state, stop))
                for _ in range(200):  # the first checkpoint, within 10 s however slow the machine
                    if _checkpoints(engine):
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)  # ten more intervals without a new event: nothing more
                stop.set()
                await asyncio.wait_for(task, timeout=10)

        asyncio.run(scenario())
        with runtime_engine(settings) as engine, engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM oson.event_checkpoint")).scalar_one()
            rows = stored(conn)
        assert count == 1
        assert len(list(tmp_path.glob("*.json"))) == 1
        assert len(rows) == 2


def _checkpoints(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM oson.event_checkpoint")).scalar_one())


def test_checkpointer_is_off_without_a_key(running_pg: PostgresServer) -> None:
    state = SimpleNamespace(settings=running_pg.settings(), engine=None)
    asyncio.run(asyncio.wait_for(run_checkpointer(state, asyncio.Event()), timeout=5))
