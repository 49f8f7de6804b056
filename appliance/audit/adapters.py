"""Evidence from the firewall flow test and the hardening role, in the audit's terms.

Both come from other parts of the appliance: ``appliance.firewall.flowtest`` (``osonctl firewall test``)
and the hardening role's programs on every VM, ``oson-hardening-check --json`` (format
``oson-hardening-check/1``) and ``oson-lynis`` (prints ``hardening_index=NN``). When one of them is
missing (an appliance deployed before the role existed) the evidence is a failure that says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from appliance.audit import catalogue as cat
from appliance.audit.evidence import FAIL, PASS, Evidence, unavailable

HARDENING_CHECK = "/usr/local/sbin/oson-hardening-check"
LYNIS_RUNNER = "/usr/local/sbin/oson-lynis"
HARDENING_FORMAT = "oson-hardening-check/1"
LYNIS_GOAL = 80
CHECK_TASK = "Run the hardening check"
LYNIS_TASK = "Run Lynis"


def firewall_evidence(inventory: Path) -> Evidence:
    """The firewall flow test (every allowed TCP flow connects, a sample of denied ones is dropped)."""
    command = f"osonctl firewall test -i {inventory}"
    try:
        from appliance.firewall.flowtest import format_report, lab_runner, plan_probes, run_probes, ssh_runner
        from appliance.firewall.resolve import load_resolved
    except ImportError as exc:
        return unavailable(cat.FIREWALL, "Firewall flow test", command, f"the flow test is not installed ({exc})")
    from appliance.topology import load_topology

    topology = load_topology(inventory)
    resolved = load_resolved(topology, None)
    probes, skipped = plan_probes(resolved)
    runner = lab_runner(topology) if topology.platform == "container" else ssh_runner(topology)
    report = run_probes(resolved, probes, runner, skipped)
    body = report.as_json()
    failed = [r for r in report.results if not r.ok]
    detail = (f"{len(report.results)} probes, {len(failed)} failed: "
              + "; ".join(f"{r.probe.id} ({r.outcome})" for r in failed[:8])) if failed else \
        f"{len(report.results)} probes: every allowed flow connected, every denied sample was dropped"
    return Evidence(cat.FIREWALL, "Firewall flow test", PASS if report.ok else FAIL, command,
                    format_report(report), detail, {"summary": body.get("summary", {}), "ok": report.ok})


def lynis_index(text: str) -> int | None:
    """The hardening index from ``oson-lynis`` output or a Lynis report (``hardening_index=NN``)."""
    match = re.search(r"^hardening_index=(\d+)\s*$", text, re.M)
    return int(match.group(1)) if match else None


def _host_result(results: dict[str, dict[str, Any]], host: str) -> tuple[str, str]:
    """(state, text): state is ok, missing (program not installed), or failed."""
    result = results.get(host)
    if result is None or result.get("skipped"):
        return "missing", "not run on this host"
    if result.get("unreachable"):
        return "failed", f"unreachable: {result.get('msg', '')}"
    rc = int(result.get("rc", 1))
    text = str(result.get("stdout") or "").strip()
    if rc == 127:
        return "missing", "not installed"
    if rc not in (0, 1):
        return "failed", str(result.get("stderr") or result.get("msg") or text or f"exit {rc}").strip()
    return "ok", text


def hardening_hosts(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per host: its controls (id, title, status, evidence, reason) and Lynis index; and the problems."""
    from appliance.ansible_run import task_results

    checks = task_results(report, CHECK_TASK)
    lynis = task_results(report, LYNIS_TASK)
    hosts: list[dict[str, Any]] = []
    problems: list[str] = []
    for host in sorted(set(checks) | set(lynis)):
        entry: dict[str, Any] = {"host": host, "controls": [], "lynis_index": None, "summary": {}}
        state, text = _host_result(checks, host)
        if state == "missing":
            problems.append(f"{host}: evidence not available: {HARDENING_CHECK} {text} (run the hardening role)")
        elif state == "failed":
            problems.append(f"{host}: the hardening check did not run: {text[:300]}")
        else:
            try:
                document = json.loads(text.splitlines()[-1] if text else "{}")
            except json.JSONDecodeError:
                document = {}
            if document.get("format") != HARDENING_FORMAT:
                problems.append(f"{host}: unexpected hardening check output: {text[:200]}")
            else:
                entry["controls"] = [{k: c.get(k) for k in ("id", "title", "status", "evidence", "reason")}
                                     for c in document.get("controls", [])]
                entry["summary"] = document.get("summary", {})
                problems += [f"{host}: {c['id']} failed" for c in entry["controls"] if c["status"] == "fail"]
                problems += [f"{host}: {e}" for e in document.get("errors", [])]
        state, text = _host_result(lynis, host)
        index = lynis_index(text) if state == "ok" else None
        entry["lynis_index"] = index
        if index is None:
            problems.append(f"{host}: no Lynis hardening index ({text[:200] or 'no output'})")
        elif index < LYNIS_GOAL:
            problems.append(f"{host}: Lynis hardening index {index} is below the goal of {LYNIS_GOAL}")
        hosts.append(entry)
    return hosts, problems


def hardening_evidence(inventory: Path, report: dict[str, Any] | None) -> Evidence:
    command = f"{HARDENING_CHECK} --json; {LYNIS_RUNNER}  (on every VM, playbooks/audit-collect.yml)"
    if report is None:
        return unavailable(cat.HARDENING, "Hardening checks and Lynis index", command,
                           "the audit playbook did not run")
    hosts, problems = hardening_hosts(report)
    if not hosts:
        return unavailable(cat.HARDENING, "Hardening checks and Lynis index", command, "no VM answered")
    lines = [f"{h['host']:12} lynis={h['lynis_index']}  " + " ".join(f"{k}={v}" for k, v in
                                                                      sorted(h["summary"].items()))
             for h in hosts]
    return Evidence(cat.HARDENING, "Hardening checks and Lynis index", FAIL if problems else PASS, command,
                    "\n".join(lines), "; ".join(problems[:20]) or
                    f"every control passes or is waived on {len(hosts)} VMs; Lynis index {LYNIS_GOAL}+ everywhere",
                    {"hosts": hosts, "lynis_goal": LYNIS_GOAL})
