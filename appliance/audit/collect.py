"""Live evidence for the auditor's report, gathered from a deployed appliance.

``collect`` runs playbooks/audit-collect.yml (read-only, every VM) and the checks made from the control
node: testssl.sh against the public VIP, the service's OpenAPI document and an unauthenticated request
through the VIP, the event-log verification, the backups' freshness, the signed verify and drill reports,
the firewall flow test and the hardening checks (``appliance.audit.adapters``). Every check that cannot
run becomes failed evidence saying why; nothing is skipped silently.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.audit import catalogue as cat
from appliance.audit.evidence import FAIL, PASS, Evidence, as_text, unavailable

PLAYBOOK = "audit-collect.yml"
CERT_MIN_DAYS = 30
BACKUP_MAX_AGE = timedelta(hours=26)  # the daily differential backups, with two hours of slack
REPORT_MAX_AGE = timedelta(days=31)  # a verify or drill report older than this no longer tells the present
DURABLE = {"fsync": "on", "full_page_writes": "on", "data_checksums": "on", "ssl": "on", "archive_mode": "on"}


# -- from the audit-collect playbook ------------------------------------------------------------------


def task_outputs(report: dict[str, Any], task: str) -> dict[str, dict[str, Any]]:
    from appliance.ansible_run import task_results

    return task_results(report, task)


def _host_text(result: dict[str, Any]) -> tuple[bool, str]:
    """(ran fine, what it printed) of one host's command result."""
    if result.get("unreachable"):
        return False, f"unreachable: {result.get('msg', '')}"
    text = str(result.get("stdout") or "").strip()
    if int(result.get("rc", 1)) != 0:
        return False, (str(result.get("stderr") or result.get("msg") or text or "failed")).strip()
    return True, text


def certificates(report: dict[str, Any], now: datetime | None = None) -> Evidence:
    """Every VM's certificate: readable, valid for at least CERT_MIN_DAYS more days."""
    from appliance.certs import days_left, parse_x509_text

    now = now or datetime.now(UTC)
    results = task_outputs(report, "Read the host certificate")
    command = "openssl x509 -noout -subject -issuer -enddate -ext subjectAltName -in /etc/oson/pki/host.crt"
    if not results:
        return unavailable(cat.CERTS, "Host certificates", command, "no VM answered the audit playbook")
    hosts: dict[str, Any] = {}
    problems: list[str] = []
    lines: list[str] = []
    for host in sorted(results):
        ok, text = _host_text(results[host])
        lines.append(f"== {host}\n{text}")
        if not ok:
            problems.append(f"{host}: {text[:200]}")
            continue
        fields = parse_x509_text(text)
        if "not_after" not in fields:
            problems.append(f"{host}: no notAfter in the certificate")
            continue
        days = days_left(fields["not_after"], now)
        hosts[host] = {**fields, "days_left": days}
        if days < CERT_MIN_DAYS:
            problems.append(f"{host}: certificate expires in {days} days: run `osonctl certs rotate`")
    return Evidence(cat.CERTS, "Host certificates", FAIL if problems else PASS, command, "\n".join(lines),
                    "; ".join(problems) or f"{len(hosts)} certificates valid for {CERT_MIN_DAYS}+ days",
                    {"hosts": hosts})


def durability(report: dict[str, Any]) -> Evidence:
    results = task_outputs(report, "Read the durability settings")
    command = "psql -Atc \"SELECT name, setting FROM pg_settings WHERE name IN (fsync, full_page_writes, ...)\""
    if not results:
        return unavailable(cat.DURABILITY, "Database durability settings", command, "no database VM answered")
    problems: list[str] = []
    lines: list[str] = []
    settings_by_host: dict[str, dict[str, str]] = {}
    for host in sorted(results):
        ok, text = _host_text(results[host])
        lines.append(f"== {host}\n{text}")
        if not ok:
            problems.append(f"{host}: {text[:200]}")
            continue
        settings = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        settings_by_host[host] = settings
        for name, wanted in DURABLE.items():
            if settings.get(name) != wanted:
                problems.append(f"{host}: {name} is {settings.get(name)!r}, must be {wanted!r}")
        if settings.get("synchronous_commit") not in ("on", "remote_apply", "remote_write"):
            problems.append(f"{host}: synchronous_commit is {settings.get('synchronous_commit')!r}")
        # timestamptz columns hold UTC instants whatever TimeZone shows them in (the operational day is
        # Asia/Almaty's); an unset TimeZone would show them in the server's zone, unknown to an auditor.
        if not settings.get("TimeZone"):
            problems.append(f"{host}: TimeZone is not set")
    if not settings_by_host:
        problems.append("no database VM printed its settings")
    return Evidence(cat.DURABILITY, "Database durability settings", FAIL if problems else PASS, command,
                    "\n".join(lines), "; ".join(problems) or "fsync, full_page_writes, data checksums, synchronous "
                    "commit, WAL archiving and TLS on every database VM; times stored as UTC instants (timestamptz)",
                    {"settings": settings_by_host})


def cluster(report: dict[str, Any]) -> Evidence:
    results = task_outputs(report, "Read the Patroni cluster")
    command = "patronictl -c /etc/patroni/config.yml list -f json"
    for host in sorted(results):
        ok, text = _host_text(results[host])
        if not ok:
            continue
        try:
            members = list(json.loads(text))
        except json.JSONDecodeError:
            continue
        leaders = [m.get("Member") for m in members if m.get("Role") == "Leader"]
        sync = [m.get("Member") for m in members if m.get("Role") == "Sync Standby"
                and m.get("State") in ("streaming", "running")]
        problems = []
        if len(leaders) != 1:
            problems.append(f"{len(leaders)} leaders: {leaders}")
        if not sync:
            problems.append("no synchronous standby is streaming: a power loss of the leader could lose commits")
        return Evidence(cat.CLUSTER, "Patroni cluster", FAIL if problems else PASS, f"{command}  (on {host})",
                        as_text(members), "; ".join(problems) or f"leader {leaders[0]}, synchronous standby "
                        f"{', '.join(str(s) for s in sync)}", {"members": members})
    return unavailable(cat.CLUSTER, "Patroni cluster", command, "no database VM listed the cluster: "
                       + "; ".join(f"{h}: {_host_text(r)[1][:200]}" for h, r in sorted(results.items())))


def backup_jobs(report: dict[str, Any]) -> Evidence:
    """The last result of every scheduled pgBackRest job (check, verify, backups) on each VM."""
    results = task_outputs(report, "Read the backup job results")
    command = "cat /var/lib/oson/backup-status/*.json"
    if not results:
        return unavailable(cat.BACKUP_JOBS, "Scheduled backup jobs", command, "no database or backup VM answered")
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    for host in sorted(results):
        ok, text = _host_text(results[host])
        if not ok:
            problems.append(f"{host}: {text[:200]}")
            continue
        for job in json.loads(text).get("jobs", []):
            rows.append({"host": host, "job": job.get("job"), "ended_at": job.get("ended_at"),
                         "result": job.get("result"), "detail": str(job.get("detail", ""))[:200]})
            if job.get("result") not in ("ok", "skipped"):
                problems.append(f"{host}: {job.get('job')} {job.get('result')} at {job.get('ended_at')}: "
                                f"{str(job.get('detail', ''))[:200]}")
    if not rows and not problems:
        problems.append("no scheduled backup job has run yet (timers run nightly; `osonctl backup verify` now)")
    output = "\n".join(f"{r['host']:12} {r['job']:24} {r['result']:8} {r['ended_at']}" for r in rows)
    return Evidence(cat.BACKUP_JOBS, "Scheduled backup jobs (last results)", FAIL if problems else PASS, command,
                    output, "; ".join(problems) or f"{len(rows)} jobs, all ok", {"jobs": rows})


# -- from the control node ----------------------------------------------------------------------------


def backups_fresh(listing: Any, now: datetime | None = None) -> Evidence:
    """Each repository holds a backup that ended within BACKUP_MAX_AGE (``listing``: appliance.backup.Inventory)."""
    now = now or datetime.now(UTC)
    command = "osonctl backup list -i INVENTORY"
    newest: dict[int, int] = {}
    for item in listing.backups:
        newest[item.repo] = max(newest.get(item.repo, 0), item.stopped)
    problems: list[str] = []
    lines = []
    for repo in (1, 2):
        if repo not in newest:
            problems.append(f"repo{repo} holds no backup: run `osonctl backup create`")
            continue
        ended = datetime.fromtimestamp(newest[repo], UTC)
        age = now - ended
        lines.append(f"repo{repo}: newest backup ended {ended.isoformat()} ({age.total_seconds() / 3600:.1f} h ago)")
        if age > BACKUP_MAX_AGE:
            problems.append(f"repo{repo}'s newest backup is {age.total_seconds() / 3600:.0f} h old "
                            f"(more than {BACKUP_MAX_AGE.total_seconds() / 3600:.0f} h)")
    output = "\n".join([f"pgBackRest status on {listing.host}: {listing.status}", *lines,
                        *(f"{b.label} {b.kind} repo{b.repo}" for b in listing.backups[-10:])])
    return Evidence(cat.BACKUPS, "Backup freshness", FAIL if problems else PASS, command, output,
                    "; ".join(problems) or "both repositories hold a backup of the last day",
                    {"newest": {f"repo{k}": datetime.fromtimestamp(v, UTC).isoformat() for k, v in newest.items()}})


def signed_reports(directory: Path, prefix: str, evidence_id: str, title: str, public_key_pem: str | None,
                   now: datetime | None = None) -> Evidence:
    """The newest signed report of each kind starting with ``prefix`` in ``directory``: passed, signature valid,
    not older than REPORT_MAX_AGE."""
    from appliance.drills import report as drill_report

    now = now or datetime.now(UTC)
    command = f"python -m appliance.drills.report verify {directory}/{prefix}*.json --public-key KEY.pem"
    newest: dict[str, Path] = {}
    for path in sorted(directory.glob(f"{prefix}*.json")):
        kind = re.sub(r"-\d{14}$", "", path.stem)
        newest[kind] = path  # sorted by name: the timestamp in the name makes the last one the newest
    if not newest:
        return unavailable(evidence_id, title, command, f"no {prefix}* report in {directory}")
    problems: list[str] = []
    lines: list[str] = []
    data: dict[str, Any] = {}
    for kind, path in sorted(newest.items()):
        document = json.loads(path.read_text(encoding="utf-8"))
        signature = ["no signing key to check with"] if public_key_pem is None else \
            drill_report.verify_report(path, public_key_pem)
        ended = datetime.fromisoformat(str(document.get("ended_at")))
        data[kind] = {"file": path.name, "passed": bool(document.get("passed")), "ended_at": ended.isoformat(),
                      "signature_ok": not signature}
        lines.append(f"{path.name}: {'passed' if document.get('passed') else 'FAILED'}, ended {ended.isoformat()}, "
                     f"signature {'valid' if not signature else 'NOT VALID: ' + '; '.join(signature)}")
        if not document.get("passed"):
            problems.append(f"{path.name} did not pass")
        if signature:
            problems.append(f"{path.name}: {'; '.join(signature)}")
        if now - ended > REPORT_MAX_AGE:
            problems.append(f"{path.name} is older than {REPORT_MAX_AGE.days} days")
    return Evidence(evidence_id, title, FAIL if problems else PASS, command, "\n".join(lines),
                    "; ".join(problems) or f"{len(newest)} report(s), newest of each kind passed and signed", data)


def openapi_routes(document: dict[str, Any]) -> list[str]:
    return sorted(f"{method.upper()} {path}" for path, item in document.get("paths", {}).items()
                  for method in item if method in ("get", "post", "put", "patch", "delete"))


def api_checks(base_url: str, ca_file: Path) -> list[Evidence]:
    """The service's OpenAPI document and a request without credentials, both through the public VIP."""
    import httpx

    evidence: list[Evidence] = []
    command = f"curl --cacert CA {base_url}/openapi.json"
    try:
        with httpx.Client(verify=str(ca_file), timeout=15.0) as client:
            answer = client.get(f"{base_url}/openapi.json")
            routes = openapi_routes(answer.json()) if answer.status_code == 200 else []
            evidence.append(Evidence(cat.OPENAPI, "Routes of the deployed operator service",
                                     PASS if routes else FAIL, command, "\n".join(routes) or answer.text,
                                     f"{len(routes)} routes" if routes else f"HTTP {answer.status_code}",
                                     {"routes": routes}))
            denied = client.get(f"{base_url}/api/staff")
            ok = denied.status_code == 401
            evidence.append(Evidence(cat.API_AUTH, "A request without credentials is refused",
                                     PASS if ok else FAIL, f"curl --cacert CA {base_url}/api/staff",
                                     f"HTTP {denied.status_code}\n{denied.text}",
                                     "refused with 401" if ok else f"answered {denied.status_code}, expected 401"))
    except (httpx.HTTPError, ValueError) as exc:
        for eid, title in ((cat.OPENAPI, "Routes of the deployed operator service"),
                           (cat.API_AUTH, "A request without credentials is refused")):
            if eid not in {e.id for e in evidence}:
                evidence.append(unavailable(eid, title, command, f"{base_url} did not answer: {exc}"))
    return evidence


def tls_scan(address: str, sni: str, ca_file: Path) -> Evidence:
    from appliance.audit import tls

    try:
        scan = tls.run_testssl(str(address), 443, ca_file=ca_file, sni=sni)
    except tls.TlsScanError as exc:
        return unavailable(cat.TLS, "TLS of the public VIP (testssl.sh)", "testssl", str(exc))
    output = "\n".join(f"{k}: {v}" for k, v in sorted(scan.summary.items()))
    return Evidence(cat.TLS, "TLS of the public VIP (testssl.sh)", PASS if scan.ok else FAIL,
                    " ".join(scan.command), output, "; ".join(scan.problems) or
                    "TLSv1.2/1.3 only, ECDHE with AEAD suites only, HSTS of a year or more", scan.to_dict())


def events_chain(inventory: Path) -> Evidence:
    from appliance.events import verify_report

    command = "osonctl events verify -i INVENTORY --json"
    try:
        host, code, body = verify_report(inventory)
    except RuntimeError as exc:
        return unavailable(cat.EVENTS, "Event-log chain verification", command, str(exc))
    ok = code == 0 and bool(body.get("ok"))
    detail = (f"{body.get('events_checked')} events, {body.get('checkpoints_checked')} checkpoints, signatures "
              f"checked: {body.get('signatures_checked')} (on {host})")
    if not ok:
        detail = "event log DAMAGED: " + "; ".join(
            str(p.get("message", p)) if isinstance(p, dict) else str(p) for p in body.get("problems", [])[:5])
    return Evidence(cat.EVENTS, "Event-log chain verification", PASS if ok else FAIL, command,
                    as_text(body), detail, {"host": host, "ok": ok})


def _guarded(evidence_id: str, title: str, command: str, step: Callable[[], Evidence | list[Evidence]]) \
        -> list[Evidence]:
    try:
        result = step()
    except Exception as exc:  # one broken check must not hide the others' evidence
        return [unavailable(evidence_id, title, command, f"{type(exc).__name__}: {exc}")]
    return result if isinstance(result, list) else [result]


def collect(inventory: Path, *, reports_dir: Path | None = None,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, Evidence]:
    """All live evidence of a deployed appliance, by id."""
    from appliance import backup
    from appliance.ansible_run import PlaybookError, run_appliance_playbook
    from appliance.audit import adapters
    from appliance.drills.report import signing_public_key_pem
    from appliance.secrets import ca_certificate, state_dir
    from appliance.topology import load_topology

    topology = load_topology(inventory)
    reports_dir = reports_dir or state_dir(topology) / "reports"
    found: list[Evidence] = []
    progress("collecting from every VM (playbooks/audit-collect.yml)")
    started = time.monotonic()
    try:
        report: dict[str, Any] | None = run_appliance_playbook(inventory, PLAYBOOK)
    except PlaybookError as exc:
        report = None
        for eid, title in ((cat.CERTS, "Host certificates"), (cat.DURABILITY, "Database durability settings"),
                           (cat.CLUSTER, "Patroni cluster"), (cat.BACKUP_JOBS, "Scheduled backup jobs")):
            found.append(unavailable(eid, title, f"ansible-playbook playbooks/{PLAYBOOK}", str(exc)))
    if report is not None:
        for evidence_id, parse in ((cat.CERTS, certificates), (cat.DURABILITY, durability),
                                   (cat.CLUSTER, cluster), (cat.BACKUP_JOBS, backup_jobs)):
            found += _guarded(evidence_id, evidence_id, f"playbooks/{PLAYBOOK}", lambda parse=parse: parse(report))
    progress(f"  done in {time.monotonic() - started:.0f} s")
    found += _guarded(cat.HARDENING, "Hardening checks and Lynis index", f"playbooks/{PLAYBOOK}",
                      lambda: adapters.hardening_evidence(inventory, report))
    vip = topology.vips["public"].address
    with tempfile.TemporaryDirectory(prefix="oson-audit-") as work:
        ca_file = Path(work) / "ca.crt"
        ca_file.write_text(ca_certificate(inventory, topology), encoding="utf-8")
        progress(f"testssl.sh against the public VIP {vip}:443")
        found += _guarded(cat.TLS, "TLS of the public VIP", "testssl",
                          lambda: tls_scan(vip, str(topology.common_vars()["oson_public_hostname"]), ca_file))
        progress("the operator service through the VIP")
        found += _guarded(cat.OPENAPI, "Routes of the deployed operator service", "GET /openapi.json",
                          lambda: api_checks(f"https://{vip}", ca_file))
    progress("the firewall flow test")
    found += _guarded(cat.FIREWALL, "Firewall flow test", "osonctl firewall test",
                      lambda: adapters.firewall_evidence(inventory))
    progress("the event-log chain")
    found += _guarded(cat.EVENTS, "Event-log chain verification", "osonctl events verify",
                      lambda: events_chain(inventory))
    progress("backups")
    found += _guarded(cat.BACKUPS, "Backup freshness", "osonctl backup list",
                      lambda: backups_fresh(backup.list_backups(inventory)))
    try:
        public_key: str | None = signing_public_key_pem(inventory, topology)
    except Exception:  # reported on each report as an unverifiable signature
        public_key = None
    found += _guarded(cat.BACKUP_VERIFY, "Last backup verification", "osonctl backup verify",
                      lambda: signed_reports(reports_dir, "backup-verify", cat.BACKUP_VERIFY,
                                             "Last backup verification (signed report)", public_key))
    found += _guarded(cat.DRILL, "Last power-loss drills", "osonctl drill power-loss",
                      lambda: signed_reports(reports_dir, "power-loss", cat.DRILL,
                                             "Last power-loss drills (signed reports)", public_key))
    return {e.id: e for e in found}
