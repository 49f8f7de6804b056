"""`osonctl audit` against the lab: the signed report in JSON, HTML and PDF, its sections on the PDF's
pages, the TLS scan of the public VIP, and the Lynis hardening index of every VM (the figure).

Uses the session's lab (`running_lab` of lab_support: the lab the other lab tests used, a fresh lab
when run alone, or the lab that is up with OSON_REUSE_LAB=1):

    OSON_REUSE_LAB=1 .venv/bin/pytest -m lab tests/integration/test_lab_audit.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_support import Lab, record_figure

from appliance.audit import catalogue as cat
from appliance.audit import report as audit_report
from appliance.audit.adapters import LYNIS_GOAL
from appliance.drills.report import signing_public_key_pem
from appliance.paths import LAB_INVENTORY
from appliance.topology import load_topology

pytestmark = [pytest.mark.lab, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def audit(running_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("audit")
    proc = subprocess.run([sys.executable, "-m", "appliance.cli", "audit", "-i", str(LAB_INVENTORY), "--out",
                           str(out), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "audit-lab.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    assert proc.returncode in (0, 1), f"osonctl audit could not run ({proc.returncode}):\n{proc.stderr[-4000:]}"
    body = json.loads(proc.stdout)
    files = {kind: Path(path) for kind, path in body["files"].items()}
    document = json.loads(files["json"].read_text(encoding="utf-8"))
    yield {"returncode": proc.returncode, "body": body, "files": files, "document": document,
           "stdout": proc.stdout}


def test_the_report_is_written_signed_and_the_exit_code_is_its_verdict(audit: dict[str, Any]) -> None:
    files = audit["files"]
    assert set(files) == {"json", "html", "pdf"} and all(p.stat().st_size > 0 for p in files.values())
    document = audit["document"]
    key = signing_public_key_pem(LAB_INVENTORY, load_topology(LAB_INVENTORY))
    assert audit_report.verify_report(files["json"], key) == []
    assert audit["returncode"] == (0 if document["passed"] else 1)
    rows = document["controls_14_1"] + document["duties_xiii"]
    assert [r["section"] for r in rows] == [c.section for c in cat.CONTROLS]
    assert not [r for r in rows if r["status"] == "pass" and any(
        document["evidence"].get(e, {}).get("status") != "pass" for e in r["evidence"])]


def test_the_pdf_pages_show_every_section(audit: dict[str, Any], tmp_path: Path) -> None:
    pdf = audit["files"]["pdf"]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    for section in audit_report.SECTIONS:
        assert section in text, f"{section!r} missing from the PDF"
    for control in cat.CONTROLS:
        assert control.section in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=300)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    assert all(p.stat().st_size > 2000 for p in pages), "a rendered page is (nearly) empty"


def test_tls_of_the_public_vip_passes_the_policy(audit: dict[str, Any]) -> None:
    scan = audit["document"]["evidence"][cat.TLS]
    assert scan["status"] == "pass", scan["detail"]
    summary = scan["data"]["summary"]
    assert all("not offered" in summary[p] for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"))


def test_live_database_event_log_and_certificate_evidence_pass(audit: dict[str, Any]) -> None:
    evidence = audit["document"]["evidence"]
    for evidence_id in (cat.DURABILITY, cat.CLUSTER, cat.EVENTS, cat.CERTS, cat.OPENAPI, cat.API_AUTH):
        assert evidence[evidence_id]["status"] == "pass", f"{evidence_id}: {evidence[evidence_id]['detail']}"


def test_the_lynis_hardening_index_of_every_vm_meets_the_goal(audit: dict[str, Any], running_lab: Lab) -> None:
    figures = audit["document"]["summary"]["lynis_hardening_index"]
    record_figure("Lynis hardening index per VM", figures)
    assert set(figures) == set(running_lab.topology.hosts), figures
    low = {host: index for host, index in figures.items() if index is None or index < LYNIS_GOAL}
    assert not low, f"below {LYNIS_GOAL} (or not available): {low}"
