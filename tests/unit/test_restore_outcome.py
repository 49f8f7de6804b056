"""How osonctl judges the restore and database playbooks' JSON reports (the playbooks run in the lab test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance import backup, database
from appliance.ansible_run import task_failures


def _report(*tasks: tuple[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"plays": [{"tasks": [{"task": {"name": name}, "hosts": hosts} for name, hosts in tasks]}]}


def _state(postgresql: str, patroni: str = "inactive") -> dict[str, Any]:
    return {"stdout": json.dumps({"result": "ok", "postgresql": postgresql, "patroni": patroni})}


def test_failures_name_host_task_and_message() -> None:
    report = _report(("Stop Patroni", {"db1": {"failed": True, "msg": "unit not found"}, "db2": {"changed": True}}),
                     ("Wait", {"app1": {"unreachable": True, "msg": "ssh: timeout"}}))
    assert task_failures(report) == ["db1: Stop Patroni: unit not found", "app1: Wait: ssh: timeout"]


def test_member_states_read_the_last_json_line() -> None:
    report = _report(("Run oson-restore state", {"db1": _state("primary", "active"), "db2": {"stdout": "garbage"}}))
    assert database.member_states(report, "Run oson-restore state") == {
        "db1": {"result": "ok", "postgresql": "primary", "patroni": "active"}}


def test_restore_reports_a_refusal_and_not_its_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = _report(("Require every database VM to be stopped",
                       {"db1": {"failed": True, "msg": "REFUSED: the database runs on db1."}}))
    monkeypatch.setattr(backup, "run_appliance_playbook", lambda *args, **kwargs: refused)
    result = backup.restore(Path("inventory/lab"))
    assert result == {"ok": False, "refused": "REFUSED: the database runs on db1.", "restore": None, "problems": []}


def test_restore_succeeds_only_when_the_restore_step_said_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    done = {"result": "ok", "backup_label": "20261121-101010F", "timeline": "3"}
    good = _report(("Run oson-restore restore", {"db1": {"stdout": json.dumps(done)}, "db2": {"skipped": True}}))
    monkeypatch.setattr(backup, "run_appliance_playbook", lambda *args, **kwargs: good)
    result = backup.restore(Path("inventory/lab"), target="2026-11-21 10:15:00+05", repo=2)
    assert result["ok"] is True and result["restore"] == {"host": "db1", **done}

    failed_step = {"result": "failed", "failed_step": "pgbackrest restore"}
    bad = _report(("Run oson-restore restore", {"db1": {"failed": True, "rc": 2, "stdout": json.dumps(failed_step)}}))
    monkeypatch.setattr(backup, "run_appliance_playbook", lambda *args, **kwargs: bad)
    result = backup.restore(Path("inventory/lab"))
    assert result["ok"] is False and result["restore"]["failed_step"] == "pgbackrest restore"
    assert result["problems"] and result["problems"][0].startswith("db1: Run oson-restore restore")


def test_restore_passes_time_and_repository_to_the_playbook(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(inventory: Path, playbook: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        seen.update(playbook=playbook, extra=extra)
        return _report()

    monkeypatch.setattr(backup, "run_appliance_playbook", fake)
    result = backup.restore(Path("inventory/lab"), target="2026-11-21 10:15:00+05", repo=2)
    assert seen == {"playbook": "backup-restore.yml",
                    "extra": {"oson_restore_time": "2026-11-21 10:15:00+05", "oson_restore_repo": 2}}
    assert result["ok"] is False  # no restore step ran


def test_the_cli_refuses_an_unconfirmed_restore_and_stop(capsys: pytest.CaptureFixture[str]) -> None:
    from appliance.cli import main

    assert main(["backup", "restore", "-i", "inventory/lab"]) == 2
    assert "--confirm-overwrite" in capsys.readouterr().err
    assert main(["database", "stop", "-i", "inventory/lab"]) == 2
    assert "--confirm-outage" in capsys.readouterr().err
