"""How the audit judges live evidence: recorded audit-collect playbook reports, backup listings and signed
reports, each in a healthy and a broken variant (the broken one must fail, saying why)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit import adapters, collect
from appliance.audit.evidence import FAIL, PASS
from appliance.backup import BackupSet, Inventory
from appliance.drills import report as drill_report

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CERT = ("subject=CN = oson1.oson.lab\nissuer=O = OSON Appliance, CN = OSON osonlab CA\nserial=3F\n"
        "notBefore=Nov 20 09:00:00 2026 GMT\nnotAfter={after} GMT\n"
        "sha256 Fingerprint=AB:CD\nX509v3 Subject Alternative Name: \n"
        "    DNS:oson1, DNS:oson1.oson.lab, IP Address:127.0.0.1\n")
SETTINGS = ("archive_mode=on\ndata_checksums=on\nfsync=on\nfull_page_writes=on\nlog_timezone=UTC\nssl=on\n"
            "ssl_min_protocol_version=TLSv1.2\nsynchronous_commit=on\nsynchronous_standby_names=\"osondb2\"\n"
            "TimeZone=UTC\nwal_level=replica")
MEMBERS = [{"Member": "osondb1", "Role": "Leader", "State": "running"},
           {"Member": "osondb2", "Role": "Sync Standby", "State": "streaming"}]


def playbook_report(tasks: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """A JSON-callback report with these tasks' per-host results."""
    return {"plays": [{"tasks": [{"task": {"name": name}, "hosts": hosts} for name, hosts in tasks.items()]}]}


def ok(stdout: str) -> dict[str, Any]:
    return {"rc": 0, "stdout": stdout, "stderr": ""}


def hardening_check(host: str, fail: str | None = None) -> str:
    controls = [{"id": "HARD-SSH-01", "title": "SSH keys only", "status": "pass", "evidence": ["x"], "reason": None},
                {"id": "HARD-SYSCTL-02", "title": "sysctl", "status": "waived", "evidence": [],
                 "reason": "container"}]
    if fail:
        controls.append({"id": fail, "title": "broken", "status": "fail", "evidence": ["y"], "reason": None})
    return json.dumps({"format": "oson-hardening-check/1", "host": host, "checked_at": "2026-11-21T09:00:00Z",
                       "container": True, "summary": {"pass": 1, "fail": int(bool(fail)), "waived": 1},
                       "controls": controls, "errors": []})


def test_certificates_pass_when_valid_long_enough_and_fail_when_due() -> None:
    good = playbook_report({"Read the host certificate": {"oson1": ok(CERT.format(after="Feb 22 09:00:00 2029"))}})
    evidence = collect.certificates(good, NOW)
    assert evidence.status == PASS and evidence.data["hosts"]["oson1"]["sans"][0] == "DNS:oson1"
    due = playbook_report({"Read the host certificate": {
        "oson1": ok(CERT.format(after="Dec 01 09:00:00 2026")),
        "oson2": {"unreachable": True, "msg": "ssh: no route"}}})
    evidence = collect.certificates(due, NOW)
    assert evidence.status == FAIL
    assert "oson1: certificate expires in 9 days: run `osonctl certs rotate`" in evidence.detail
    assert "oson2: unreachable" in evidence.detail
    assert collect.certificates(playbook_report({}), NOW).detail.startswith("evidence not available")


def test_durability_settings_must_be_durable_on_every_database_vm() -> None:
    task = "Read the durability settings"
    assert collect.durability(playbook_report({task: {"osondb1": ok(SETTINGS), "osondb2": ok(SETTINGS)}})).status \
        == PASS
    weak = SETTINGS.replace("fsync=on", "fsync=off").replace("synchronous_commit=on", "synchronous_commit=local")
    evidence = collect.durability(playbook_report({task: {"osondb1": ok(SETTINGS), "osondb2": ok(weak)}}))
    assert evidence.status == FAIL
    assert "osondb2: fsync is 'off', must be 'on'" in evidence.detail
    assert "osondb2: synchronous_commit is 'local'" in evidence.detail


def test_the_cluster_needs_one_leader_and_a_streaming_synchronous_standby() -> None:
    task = "Read the Patroni cluster"
    healthy = collect.cluster(playbook_report({task: {"osondb1": ok(json.dumps(MEMBERS))}}))
    assert healthy.status == PASS and healthy.detail == "leader osondb1, synchronous standby osondb2"
    lagging = [MEMBERS[0], {"Member": "osondb2", "Role": "Replica", "State": "streaming"}]
    evidence = collect.cluster(playbook_report({task: {"osondb1": {"rc": 1, "stderr": "etcd down"},
                                                       "osondb2": ok(json.dumps(lagging))}}))
    assert evidence.status == FAIL and "no synchronous standby" in evidence.detail


def test_backup_jobs_fail_on_any_failed_last_result() -> None:
    task = "Read the backup job results"
    jobs = {"jobs": [{"job": "check", "result": "ok", "ended_at": "2026-11-21T09:00:00+00:00"},
                     {"job": "verify-repo2", "result": "failed", "ended_at": "2026-11-21T05:00:00+00:00",
                      "detail": "checksum mismatch"}]}
    evidence = collect.backup_jobs(playbook_report({task: {"osonbackup": ok(json.dumps(jobs))}}))
    assert evidence.status == FAIL and "verify-repo2 failed" in evidence.detail
    jobs["jobs"].pop()
    assert collect.backup_jobs(playbook_report({task: {"osonbackup": ok(json.dumps(jobs))}})).status == PASS
    empty = collect.backup_jobs(playbook_report({task: {"osonbackup": ok('{"jobs": []}')}}))
    assert empty.status == FAIL and "no scheduled backup job has run yet" in empty.detail


def _listing(*ages_hours: tuple[int, float]) -> Inventory:
    listing = Inventory(host="osondb2", status="ok")
    for repo, hours in ages_hours:
        stopped = int((NOW - timedelta(hours=hours)).timestamp())
        listing.backups.append(BackupSet(f"20261121-{repo}F", "full", repo, stopped - 60, stopped, 1, 1, "a", "b"))
    return listing


def test_backups_are_fresh_only_with_a_recent_backup_in_both_repositories() -> None:
    assert collect.backups_fresh(_listing((1, 3), (2, 5)), NOW).status == PASS
    stale = collect.backups_fresh(_listing((1, 3), (2, 50)), NOW)
    assert stale.status == FAIL and "repo2's newest backup is 50 h old" in stale.detail
    missing = collect.backups_fresh(_listing((1, 3)), NOW)
    assert missing.status == FAIL and "repo2 holds no backup" in missing.detail


def _signed(directory: Path, key: Ed25519PrivateKey, name: str, ended: datetime, passed: bool) -> Path:
    document = drill_report.build_report(name=name, environment="lab", started_at=ended.isoformat(),
                                         ended_at=ended.isoformat(), timeline=[], figures={},
                                         verdict={"ok": passed}, checks=[], host={"hostname": "control"})
    json_path, _ = drill_report.write_report(directory, document, key)
    return json_path


def test_signed_reports_must_be_recent_passed_and_signed(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = drill_report.public_key_pem(key)
    _signed(tmp_path, key, "power-loss-db-primary", NOW - timedelta(days=40), passed=False)
    _signed(tmp_path, key, "power-loss-db-primary", NOW - timedelta(days=2), passed=True)
    _signed(tmp_path, key, "power-loss-web", NOW - timedelta(days=1), passed=True)
    evidence = collect.signed_reports(tmp_path, "power-loss", "reports.power_loss_drill", "drills", pem, NOW)
    assert evidence.status == PASS, evidence.detail
    assert set(evidence.data) == {"power-loss-db-primary", "power-loss-web"}
    tampered = _signed(tmp_path, key, "power-loss-app", NOW - timedelta(hours=1), passed=True)
    document = json.loads(tampered.read_text(encoding="utf-8"))
    document["figures"] = {"write_outage_seconds": 0}
    tampered.write_text(json.dumps(document), encoding="utf-8")
    evidence = collect.signed_reports(tmp_path, "power-loss", "reports.power_loss_drill", "drills", pem, NOW)
    assert evidence.status == FAIL and "changed after signing" in evidence.detail
    none = collect.signed_reports(tmp_path, "backup-verify", "reports.backup_verify", "verify", pem, NOW)
    assert none.status == FAIL and none.detail.startswith("evidence not available: no backup-verify* report")


def test_hardening_controls_and_lynis_index_per_vm() -> None:
    report = playbook_report({
        adapters.CHECK_TASK: {"oson1": ok(hardening_check("oson1")), "osondb1": ok(hardening_check("osondb1"))},
        adapters.LYNIS_TASK: {"oson1": ok("hardening_index=84\nreport=/var/log/lynis-report.dat"),
                              "osondb1": ok("hardening_index=81\nreport=/var/log/lynis-report.dat")}})
    evidence = adapters.hardening_evidence(Path("inventory/lab"), report)
    assert evidence.status == PASS, evidence.detail
    assert {h["host"]: h["lynis_index"] for h in evidence.data["hosts"]} == {"oson1": 84, "osondb1": 81}
    assert evidence.data["hosts"][0]["controls"][1]["reason"] == "container"


@pytest.mark.parametrize(("check", "lynis", "problem"), [
    (ok(hardening_check("oson1", fail="HARD-PAM-02")), ok("hardening_index=85"), "oson1: HARD-PAM-02 failed"),
    (ok(hardening_check("oson1")), ok("hardening_index=72"), "oson1: Lynis hardening index 72 is below the goal"),
    ({"rc": 127, "stderr": "not installed"}, {"rc": 127, "stderr": "not installed"},
     "oson1: evidence not available: /usr/local/sbin/oson-hardening-check not installed"),
    ({"unreachable": True, "msg": "no route"}, {"unreachable": True, "msg": "no route"},
     "oson1: the hardening check did not run: unreachable"),
])
def test_hardening_fails_on_a_failed_control_a_low_index_or_a_missing_check(
        check: dict[str, Any], lynis: dict[str, Any], problem: str) -> None:
    report = playbook_report({adapters.CHECK_TASK: {"oson1": check}, adapters.LYNIS_TASK: {"oson1": lynis}})
    evidence = adapters.hardening_evidence(Path("inventory/lab"), report)
    assert evidence.status == FAIL and problem in evidence.detail
    assert adapters.hardening_evidence(Path("inventory/lab"), None).detail.startswith("evidence not available")


def test_openapi_routes_are_listed_as_method_and_path() -> None:
    document = {"paths": {"/api/incidents": {"get": {}, "post": {}}, "/api/live": {"get": {}, "parameters": []}}}
    assert collect.openapi_routes(document) == ["GET /api/incidents", "GET /api/live", "POST /api/incidents"]
