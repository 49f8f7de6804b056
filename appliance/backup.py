"""`osonctl backup create | list | verify`: pgBackRest on a deployed appliance, without knowing pgBackRest.

Each verb runs a small playbook (playbooks/backup-*.yml) that calls the job runner the role installs
(`oson-backup`, `oson-restore-trial`) and judges its JSON output here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.ansible_run import last_json_object, run_appliance_playbook, task_failures, task_results
from appliance.topology import load_topology


class BackupError(RuntimeError):
    """A backup verb that could not run; the message says what to do."""


def _host_outcome(host: str, result: dict[str, Any]) -> dict[str, Any]:
    if result.get("unreachable"):
        return {"host": host, "result": "unreachable", "detail": str(result.get("msg", ""))}
    if result.get("skipped"):
        return {"host": host, "result": "not asked"}
    body = last_json_object(result)
    if body is None:
        detail = str(result.get("stderr") or result.get("msg") or result.get("stdout") or "no output").strip()
        return {"host": host, "result": "failed", "detail": detail[-2000:]}
    return {"host": host, **body}


# -- create -------------------------------------------------------------------------------------------


def create(inventory: Path, repos: list[int], kind: str) -> list[dict[str, Any]]:
    """Take a backup into the given repositories; one outcome per host that ran the job."""
    report = run_appliance_playbook(inventory, "backup-create.yml",
                                    {"oson_backup_repos": repos, "oson_backup_type": kind})
    outcomes: list[dict[str, Any]] = []
    for repo in repos:
        results = task_results(report, f"Run oson-backup backup --repo {repo}")
        outcomes += [{"repo": repo, **_host_outcome(h, r)} for h, r in sorted(results.items())]
    return outcomes


def create_succeeded(outcomes: list[dict[str, Any]], repos: list[int]) -> bool:
    """Every asked repository got its backup from exactly one host, and no host failed."""
    if any(o["result"] == "failed" for o in outcomes):
        return False
    return all(sum(1 for o in outcomes if o["repo"] == repo and o["result"] == "ok") == 1 for repo in repos)


# -- list ---------------------------------------------------------------------------------------------


@dataclass
class BackupSet:
    label: str
    kind: str
    repo: int
    started: int
    stopped: int
    database_bytes: int
    repository_bytes: int
    wal_start: str
    wal_stop: str


@dataclass
class Inventory:
    host: str
    status: str
    backups: list[BackupSet] = field(default_factory=list)
    wal_ranges: dict[int, tuple[str, str]] = field(default_factory=dict)


def list_backups(inventory: Path) -> Inventory:
    report = run_appliance_playbook(inventory, "backup-info.yml")
    failures: list[str] = []
    for host, result in sorted(task_results(report, "Run oson-backup info").items()):
        if result.get("unreachable") or int(result.get("rc", 1)) != 0:
            failures.append(f"{host}: {str(result.get('stderr') or result.get('msg') or 'failed').strip()}")
            continue
        stanzas = json.loads(str(result.get("stdout") or "[]"))
        if not stanzas:
            failures.append(f"{host}: pgBackRest knows no stanza yet (deploy first)")
            continue
        return _parse_info(host, stanzas[0])
    raise BackupError("; ".join(failures) or "no database VM answered: check `osonctl prechecks`")


def _parse_info(host: str, stanza: dict[str, Any]) -> Inventory:
    listing = Inventory(host=host, status=str(stanza.get("status", {}).get("message", "?")))
    for item in stanza.get("backup", []):
        listing.backups.append(
            BackupSet(
                label=item["label"],
                kind=item["type"],
                repo=int(item["database"]["repo-key"]),
                started=int(item["timestamp"]["start"]),
                stopped=int(item["timestamp"]["stop"]),
                database_bytes=int(item["info"]["size"]),
                repository_bytes=int(item["info"]["repository"].get("delta", item["info"]["repository"]["size"])),
                wal_start=str(item["archive"]["start"]),
                wal_stop=str(item["archive"]["stop"]),
            )
        )
    for archive in stanza.get("archive", []):
        repo = int(archive["database"]["repo-key"])
        if archive.get("min") and archive.get("max"):
            listing.wal_ranges[repo] = (str(archive["min"]), str(archive["max"]))
    return listing


# -- verify -------------------------------------------------------------------------------------------


def write_verify_report(inventory: Path, result: dict[str, Any], started_at: str, ended_at: str,
                        report_dir: Path | None = None) -> tuple[Path, Path]:
    """The verification as a signed drill report (JSON + HTML) for auditors; returns both paths."""
    from appliance.drills import report
    from appliance.secrets import state_dir

    topology = load_topology(inventory)
    trial = result.get("trial_restore") or {}
    checks = [{"name": f"{s['step']} ({s['host']})", "ok": s["result"] in ("ok", "skipped"),
               "detail": f"{s['result']}: {s.get('detail', '')}"} for s in result["steps"]]
    checks += [{"name": f"trial restore: {c.get('name')}", "ok": bool(c.get("ok")), "detail": str(c.get("detail", ""))}
               for c in trial.get("checks", [])]
    if trial and not trial.get("checks"):
        checks.append({"name": "trial restore", "ok": False, "detail": str(trial.get("failed_step", "did not run"))})
    figures = {key: trial.get(key) for key in ("rto_seconds", "restore_seconds", "recovered_seconds",
                                               "backup_label", "target", "last_operation_at") if key in trial}
    timeline = [{"at": started_at, "step": "check and verify of both repositories"},
                *([{"at": ended_at, "step": f"trial restore of repo2 on {trial.get('host')}"}] if trial else []),
                {"at": ended_at, "step": "verdict: " + ("passed" if result["ok"] else "FAILED")}]
    document = report.build_report(
        name="backup-verify", environment=topology.environment, started_at=started_at, ended_at=ended_at,
        timeline=timeline, figures=figures, verdict={"ok": result["ok"]}, checks=checks,
        notes="pgBackRest check and verify of both repositories, then a restore of repo2 into a scratch "
              "instance checked with pg_amcheck and oson-operator restore-check.")
    key = report.load_signing_key(inventory, topology)
    directory = report_dir or state_dir(topology) / "reports"
    return report.write_report(directory, document, key)


def verify(inventory: Path, *, quick: bool = False, target: str | None = None,
           expect_file: Path | None = None) -> dict[str, Any]:
    """check + verify of both repositories, then (unless quick) a trial restore with business checks."""
    extra: dict[str, Any] = {"oson_backup_quick": quick}
    if target:
        extra["oson_backup_target"] = target
    if expect_file:
        extra["oson_backup_expect_file"] = str(expect_file.resolve())
    report = run_appliance_playbook(inventory, "backup-verify.yml", extra)
    steps: list[dict[str, Any]] = []
    for task, name in (
        ("Run oson-backup check", "check"),
        ("Run oson-backup verify --repo 1", "verify repo1"),
        ("Run oson-backup verify --repo 2", "verify repo2"),
    ):
        for host, result in sorted(task_results(report, task).items()):
            outcome = _host_outcome(host, result)
            if outcome["result"] != "not asked":
                steps.append({"step": name, **outcome})
    trial: dict[str, Any] | None = None
    if not quick:
        results = task_results(report, "Run oson-restore-trial")
        for host, result in sorted(results.items()):
            trial = {"host": host, **(last_json_object(result) or {"ok": False, "failed_step": "no report",
                                                              "detail": _host_outcome(host, result).get("detail")})}
        if trial is None:
            trial = {"ok": False, "failed_step": "the backup host did not run the trial restore"}
    # A step is done when one host did it and none failed (the standby skips what the primary does).
    names = {"check", "verify repo1", "verify repo2"}
    done = {s["step"] for s in steps if s["result"] == "ok"}
    failed = [s for s in steps if s["result"] not in ("ok", "skipped")]
    ok = done == names and not failed and (quick or bool(trial and trial.get("ok")))
    return {"ok": ok, "steps": steps, "trial_restore": trial}


# -- restore ------------------------------------------------------------------------------------------


def restore(inventory: Path, *, target: str | None = None, repo: int | None = None) -> dict[str, Any]:
    """Replace the stopped cluster's data with a restore (to ``target`` or the end of the archive); see
    playbooks/backup-restore.yml. Refused (``refused`` set) while the database runs anywhere."""
    extra: dict[str, Any] = {}
    if target:
        extra["oson_restore_time"] = target
    if repo:
        extra["oson_restore_repo"] = repo
    report = run_appliance_playbook(inventory, "backup-restore.yml", extra)
    refusal = next((str(r.get("msg", "")).strip() for r in
                    task_results(report, "Require every database VM to be stopped").values() if r.get("failed")),
                   None)
    restored = {host: _host_outcome(host, result)
                for host, result in task_results(report, "Run oson-restore restore").items()
                if not result.get("skipped")}
    problems = [] if refusal else task_failures(report)
    outcome = next(iter(restored.values()), None)
    return {"ok": refusal is None and not problems and bool(outcome and outcome.get("result") == "ok"),
            "refused": refusal, "restore": outcome, "problems": problems}
