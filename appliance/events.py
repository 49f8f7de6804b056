"""`osonctl events verify`: the event log's integrity, checked on a deployed appliance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.ansible_run import run_appliance_playbook, task_results

TASK = "Run oson-operator events verify"


def verify_report(inventory: Path) -> tuple[str, int, dict[str, Any]]:
    """(host, exit code, report) of ``oson-operator events verify`` on the first app host that answered."""
    report = run_appliance_playbook(inventory, "events-verify.yml")
    results = task_results(report, TASK)
    failures: list[str] = []
    for host in sorted(results):
        result = results[host]
        if result.get("unreachable") or "rc" not in result:
            failures.append(f"{host}: {result.get('msg', 'unreachable')}")
            continue
        if int(result["rc"]) not in (0, 1):
            failures.append(f"{host}: {str(result.get('stderr') or result.get('stdout') or 'failed').strip()}")
            continue
        try:
            return host, int(result["rc"]), dict(json.loads(str(result.get("stdout", ""))))
        except json.JSONDecodeError:
            failures.append(f"{host}: unexpected output: {result.get('stderr') or result.get('stdout')}")
    if not failures:
        failures.append("the verification did not run on any app host: check `osonctl prechecks`")
    raise RuntimeError("; ".join(failures))


def run(inventory: Path, as_json: bool) -> int:
    try:
        host, code, body = verify_report(inventory)
    except RuntimeError as err:
        print(f"osonctl: events verify: {err}")
        return 2
    if as_json:
        print(json.dumps({"host": host, **body}, indent=2, default=str))
    elif body.get("ok"):
        print(f"event log intact (checked on {host}): {body.get('events_checked')} events, "
              f"{body.get('checkpoints_checked')} checkpoints, signatures checked: {body.get('signatures_checked')}")
    else:
        print(f"event log DAMAGED (checked on {host}):")
        for problem in body.get("problems", [])[:20]:
            print(f"  - {problem.get('message', problem) if isinstance(problem, dict) else problem}")
    return code
