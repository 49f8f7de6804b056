"""`osonctl database stop | start`: a planned stop and start of the whole database cluster.

Stopping is an outage: the operator service stops first (nothing more is acknowledged), the
primary's last WAL is archived into both repositories, then Patroni stops on the standbys and last
on the primary, so no standby is promoted on the way down. An in-place restore (`osonctl backup
restore`) refuses to run until the cluster is stopped this way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.ansible_run import run_json_playbook, task_results
from appliance.secrets import vault_password_file
from appliance.topology import load_topology


class DatabaseError(RuntimeError):
    """A database verb that could not run or did not finish; the message says what to do."""


def run_playbook(inventory: Path, playbook: str, extra_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    topology = load_topology(inventory)
    try:
        return run_json_playbook(inventory, vault_password_file(topology), playbook, extra_vars)
    except RuntimeError as err:
        raise DatabaseError(f"{err}; is the appliance deployed and reachable? Try `osonctl prechecks`") from None


def failures(report: dict[str, Any]) -> list[str]:
    """'host: task: message' for every failed or unreachable task of a JSON-callback report."""
    found: list[str] = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            name = task.get("task", {}).get("name", "?")
            for host, result in task.get("hosts", {}).items():
                if result.get("failed") or result.get("unreachable"):
                    message = str(result.get("msg") or result.get("stderr") or result.get("stdout") or "failed")
                    found.append(f"{host}: {name}: {message.strip()[:600]}")
    return found


def member_states(report: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    """{host: the JSON oson-restore printed} for a `Run oson-restore state` task."""
    states: dict[str, dict[str, Any]] = {}
    for host, result in task_results(report, task).items():
        try:
            states[host] = dict(json.loads(str(result.get("stdout", "")).strip().splitlines()[-1]))
        except (json.JSONDecodeError, IndexError):
            continue
    return states


def stop(inventory: Path) -> dict[str, Any]:
    report = run_playbook(inventory, "database-stop.yml")
    problems = failures(report)
    before = member_states(report, "Run oson-restore state")
    primary = next((host for host, state in before.items() if state.get("postgresql") == "primary"), None)
    return {"ok": not problems, "primary_before": primary, "problems": problems,
            "after": member_states(report, "Run oson-restore state after the stop")}


def start(inventory: Path) -> dict[str, Any]:
    report = run_playbook(inventory, "database-start.yml")
    problems = failures(report)
    return {"ok": not problems, "problems": problems}
