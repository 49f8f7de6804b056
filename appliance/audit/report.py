"""The auditor's report: every control judged from live evidence, signed JSON plus HTML and PDF made from it.

Signed like the drill reports (``appliance.drills.report``: Ed25519 over the canonical JSON without its
``signature`` member, key ``vault_report_signing_key_pem``); only the JSON is signed, the HTML and PDF are
derived from it for people. A control passes only when every piece of its evidence passed and every
service route it needs is served; duties that people carry out are ``manual`` with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jinja2 import Environment, FileSystemLoader, select_autoescape

from appliance.audit import catalogue as cat
from appliance.audit.evidence import FAIL, MANUAL, NOT_APPLICABLE, PASS, Evidence
from appliance.drills import report as signed

FORMAT = "oson-audit-report/1"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The sections of the report, in order (the HTML/PDF headings and the JSON members behind them).
SECTIONS = ("Summary", "§14.1 items", "§XIII duties", "Hardening", "TLS scan", "Firewall flow test",
            "Event-log chain", "Backups", "Evidence")


def judge_control(control: cat.Control, evidence: dict[str, Evidence]) -> dict[str, Any]:
    """One control's row: status (pass, fail, manual) and why."""
    failures: list[str] = []
    for evidence_id in control.evidence:
        item = evidence.get(evidence_id)
        if item is None:
            failures.append(f"{evidence_id}: evidence not available")
        elif item.status == FAIL:
            failures.append(f"{evidence_id}: {item.detail}")
    routes: list[dict[str, Any]] = []
    if control.routes:
        openapi = evidence.get(cat.OPENAPI)
        served = set(openapi.data.get("routes", [])) if openapi is not None and openapi.status == PASS else None
        if served is None:
            failures.append(f"{cat.OPENAPI}: evidence not available (the service's routes could not be read)")
        for route in control.routes:
            present = served is not None and route in served
            routes.append({"route": route, "served": present})
            if served is not None and not present:
                failures.append(f"the deployed service does not serve {route}")
    if failures:
        status, reason = FAIL, "; ".join(failures)
    elif control.manual:
        status, reason = MANUAL, control.manual
    elif not control.evidence and not control.routes:
        status, reason = MANUAL, "no live evidence is defined for this control"
    else:
        status, reason = PASS, "every piece of evidence passed" + (" and the service serves every route"
                                                                    if control.routes else "")
    return {"id": control.id, "section": control.section, "title": control.title,
            "requirement": control.requirement, "implemented_in": list(control.implemented_in),
            "evidence": list(control.evidence), "routes": routes, "status": status, "reason": reason}


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {status: sum(1 for r in rows if r["status"] == status) for status in (PASS, FAIL, MANUAL, NOT_APPLICABLE)}


def lynis_figures(evidence: dict[str, Evidence]) -> dict[str, int | None]:
    hardening = evidence.get(cat.HARDENING)
    hosts = hardening.data.get("hosts", []) if hardening is not None else []
    return {str(h["host"]): h.get("lynis_index") for h in hosts}


def build_report(*, environment: str, inventory: str, started_at: str, ended_at: str,
                 evidence: dict[str, Evidence], host: dict[str, Any] | None = None) -> dict[str, Any]:
    """The unsigned report document."""
    controls = [judge_control(c, evidence) for c in cat.ITEMS_14_1]
    duties = [judge_control(c, evidence) for c in cat.DUTIES_XIII]
    failed_evidence = sorted(e.id for e in evidence.values() if e.status == FAIL)
    rows = controls + duties
    passed = not failed_evidence and all(r["status"] != FAIL for r in rows)
    return {
        "format": FORMAT, "environment": environment, "inventory": inventory, "started_at": started_at,
        "ended_at": ended_at, "passed": passed,
        "summary": {"controls": _counts(rows), "failed_evidence": failed_evidence,
                    "lynis_hardening_index": lynis_figures(evidence)},
        "controls_14_1": controls, "duties_xiii": duties,
        "evidence": {eid: evidence[eid].to_dict() for eid in sorted(evidence)},
        "host": host if host is not None else signed.host_facts(),
    }


def render_html(document: dict[str, Any]) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True)
    return environment.get_template("audit.html.j2").render(report=document, sections=SECTIONS)


def render_pdf(html: str, path: Path) -> None:
    """The HTML as an A4 PDF (WeasyPrint; fonts from the system, no network access)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise signed.ReportError(f"cannot render the PDF: {exc}; install WeasyPrint (`pip install weasyprint`) "
                                 "and Debian's pango libraries (`apt-get install -y libpango-1.0-0 "
                                 "libpangoft2-1.0-0`)") from None
    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))


def file_stem(document: dict[str, Any]) -> str:
    stamp = re.sub(r"[^0-9]", "", str(document.get("started_at", "")))[:14]
    return f"audit-{re.sub(r'[^A-Za-z0-9._-]+', '-', str(document.get('environment', 'appliance')))}-{stamp}"


def write_report(directory: Path, document: dict[str, Any], private_key: Ed25519PrivateKey,
                 stem: str | None = None) -> dict[str, Path]:
    """Sign ``document`` and write ``<stem>.json``, ``.html`` and ``.pdf``; returns the paths by kind."""
    document = signed.sign_report(document, private_key)
    directory.mkdir(parents=True, exist_ok=True)
    stem = stem or file_stem(document)
    paths = {kind: directory / f"{stem}.{kind}" for kind in ("json", "html", "pdf")}
    paths["json"].write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                             encoding="utf-8")
    html = render_html(document)
    paths["html"].write_text(html, encoding="utf-8")
    render_pdf(html, paths["pdf"])
    return paths


def verify_report(path: Path, public_key_pem: str) -> list[str]:
    """Problems with a signed audit report (empty when its signature verifies)."""
    if path.suffix in (".html", ".pdf"):
        path = path.with_suffix(".json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{path} is not a readable JSON report: {exc}"]
    # The drill reports' check, without its format test: this is another kind of signed report.
    problems = [p for p in signed.verify_document(document, signed.public_key_from_pem(public_key_pem))
                if not p.startswith("unknown report format")]
    if isinstance(document, dict) and document.get("format") != FORMAT:
        problems.append(f"unknown report format {document.get('format')!r}")
    return problems
