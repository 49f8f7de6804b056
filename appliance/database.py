"""`osonctl database stop | start`: a planned stop and start of the whole database cluster.

Stopping is an outage: the operator service stops first (nothing more is acknowledged), the
primary's last WAL is archived into both repositories, then Patroni stops on the standbys and last
on the primary, so no standby is promoted on the way down. An in-place restore (`osonctl backup
restore`) refuses to run until the cluster is stopped this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.ansible_run import last_json_object, run_appliance_playbook, task_failures, task_results


def member_states(report: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    """{host: the JSON oson-restore printed} for a `Run oson-restore state` task."""
    states = {host: last_json_object(result) for host, result in task_results(report, task).items()}
    return {host: state for host, state in states.items() if state is not None}


def stop(inventory: Path) -> dict[str, Any]:
    report = run_appliance_playbook(inventory, "database-stop.yml")
    problems = task_failures(report)
    before = member_states(report, "Run oson-restore state")
    primary = next((host for host, state in before.items() if state.get("postgresql") == "primary"), None)
    return {"ok": not problems, "primary_before": primary, "problems": problems,
            "after": member_states(report, "Run oson-restore state after the stop")}


def start(inventory: Path) -> dict[str, Any]:
    report = run_appliance_playbook(inventory, "database-start.yml")
    problems = task_failures(report)
    return {"ok": not problems, "problems": problems}
