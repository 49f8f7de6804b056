"""Evidence from the firewall flow test and the hardening role, in the audit's terms.

Both come from other parts of the appliance: ``appliance.firewall.flowtest`` (``osonctl firewall test``)
and the hardening role's programs on every VM, ``oson-hardening-check --json`` (format
``oson-hardening-check/1``) and ``oson-lynis --report`` (the Lynis report), read with the role's parsers in
``appliance.hardening``. When one of them is
missing (an appliance deployed before the role existed) the evidence is a failure that says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.audit import catalogue as cat
from appliance.audit.evidence import FAIL, PASS, Evidence, unavailable

HARDENING_CHECK = "/usr/local/sbin/oson-hardening-check"
LYNIS_RUNNER = "/usr/local/sbin/oson-lynis"
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
    """Per host: its controls (id, title, status, evidence, reason) and Lynis index; and the problems.

    Both outputs are read by the hardening role's own parsers (appliance.hardening)."""
    from appliance.ansible_run import task_results
    from appliance.hardening import HardeningReportError, parse_check_json, parse_lynis_report

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
                check = parse_check_json(text)
            except HardeningReportError as exc:
                problems.append(f"{host}: {exc}")
            else:
                entry["controls"] = [{"id": c.id, "title": c.title, "status": c.status,
                                      "evidence": list(c.evidence), "reason": c.reason} for c in check.controls]
                entry["summary"] = dict(check.counts())
                problems += [f"{host}: {c.id} failed" for c in check.with_status("fail")]
                problems += [f"{host}: {e}" for e in check.errors]
        state, text = _host_result(lynis, host)
        if state != "ok":
            problems.append(f"{host}: no Lynis hardening index: {text[:200] or 'no output'}")
        else:
            try:
                lynis_report = parse_lynis_report(text)
            except HardeningReportError as exc:
                problems.append(f"{host}: {exc}")
            else:
                entry["lynis_index"] = lynis_report.hardening_index
                entry["lynis_warnings"] = [f"{w.test_id}: {w.text}" for w in lynis_report.warnings]
                if lynis_report.hardening_index < LYNIS_GOAL:
                    problems.append(f"{host}: Lynis hardening index {lynis_report.hardening_index} is below the "
                                    f"goal of {LYNIS_GOAL}")
        hosts.append(entry)
    return hosts, problems


def hardening_evidence(inventory: Path, report: dict[str, Any] | None) -> Evidence:
    command = f"{HARDENING_CHECK} --json; {LYNIS_RUNNER}  (on every VM, playbooks/audit-collect.yml)"
    if report is None:
        return unavailable(cat.HARDENING, "Hardening checks and Lynis index", command,
                           "the audit playbook did not run")
    try:
        hosts, problems = hardening_hosts(report)
    except ImportError as exc:
        return unavailable(cat.HARDENING, "Hardening checks and Lynis index", command,
                           f"the hardening report parsers are not installed ({exc})")
    if not hosts:
        return unavailable(cat.HARDENING, "Hardening checks and Lynis index", command, "no VM answered")
    lines = [f"{h['host']:12} lynis={h['lynis_index']}  " + " ".join(f"{k}={v}" for k, v in
                                                                      sorted(h["summary"].items()))
             for h in hosts]
    return Evidence(cat.HARDENING, "Hardening checks and Lynis index", FAIL if problems else PASS, command,
                    "\n".join(lines), "; ".join(problems[:20]) or
                    f"every control passes or is waived on {len(hosts)} VMs; Lynis index {LYNIS_GOAL}+ everywhere",
                    {"hosts": hosts, "lynis_goal": LYNIS_GOAL})
