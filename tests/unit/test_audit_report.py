"""The auditor's report from recorded evidence: signed JSON, HTML and a PDF whose pages show every section.

The PDF is rendered by WeasyPrint, then read back with poppler (pdftotext for the text, pdftoppm for
an image of the first page, which must not be blank). A failing piece of evidence makes `osonctl audit`
exit 1.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit import catalogue as cat
from appliance.audit import command
from appliance.audit import report as audit_report
from appliance.audit.evidence import FAIL, PASS, Evidence
from appliance.drills.report import public_key_pem

HOSTS = ("oson1", "oson2", "osondb1", "osondb2")
STARTED = "2026-11-21T10:00:00.000+00:00"


def recorded_evidence() -> dict[str, Evidence]:
    """Evidence as collect() records it from a healthy appliance (outputs shortened)."""
    routes = sorted({r for c in cat.CONTROLS for r in c.routes} | {"GET /api/live"})
    hosts = [{"host": h, "lynis_index": 82 + i, "summary": {"pass": 2, "fail": 0, "waived": 1},
              "controls": [{"id": "HARD-SSH-01", "title": "SSH keys only", "status": "pass",
                            "evidence": ["passwordauthentication = no"], "reason": None},
                           {"id": "HARD-AUDIT-01", "title": "auditd rules", "status": "pass",
                            "evidence": ["auditctl -l: 42 rules"], "reason": None},
                           {"id": "HARD-SYSCTL-03", "title": "kernel.kptr_restrict", "status": "waived",
                            "evidence": [], "reason": "a container shares the host kernel"}]}
             for i, h in enumerate(HOSTS)]
    items = [
        Evidence(cat.TLS, "TLS of the public VIP (testssl.sh)", PASS,
                 "testssl --quiet --ip 10.77.20.100 -p -s -f -e -h pay.oson.lab:443",
                 "TLS1: not offered\nTLS1_1: not offered\nTLS1_2: offered", "TLSv1.2/1.3 only",
                 {"summary": {"TLS1": "not offered", "TLS1_1": "not offered", "TLS1_2": "offered",
                              "HSTS": "730 days (=63072000 seconds) > 15552000 seconds"}}),
        Evidence(cat.FIREWALL, "Firewall flow test", PASS, "osonctl firewall test -i inventory/lab",
                 "allow-web-app-8000  oson1  10.77.40.21:8000  allow connected ok", "31 probes"),
        Evidence(cat.HARDENING, "Hardening checks and Lynis index", PASS, "oson-hardening-check --json",
                 "oson1 lynis=82", "every control passes or is waived", {"hosts": hosts, "lynis_goal": 80}),
        Evidence(cat.EVENTS, "Event-log chain verification", PASS, "osonctl events verify -i inventory/lab --json",
                 '{"ok": true, "events_checked": 1200}', "1200 events, 14 checkpoints"),
        Evidence(cat.BACKUPS, "Backup freshness", PASS, "osonctl backup list -i inventory/lab",
                 "repo1: newest backup ended 2026-11-21T01:12:00+00:00", "both repositories hold a backup"),
        Evidence(cat.BACKUP_JOBS, "Scheduled backup jobs", PASS, "cat /var/lib/oson/backup-status/*.json",
                 "osondb2 backup-repo1-diff ok", "6 jobs, all ok"),
        Evidence(cat.BACKUP_VERIFY, "Last backup verification", PASS, "python -m appliance.drills.report verify",
                 "backup-verify-20261121040000.json: passed", "1 report(s)"),
        Evidence(cat.DRILL, "Last power-loss drills", PASS, "python -m appliance.drills.report verify",
                 "power-loss-db-primary-20261120090000.json: passed", "1 report(s)"),
        Evidence(cat.DURABILITY, "Database durability settings", PASS, "psql -Atc ...", "fsync=on", "durable"),
        Evidence(cat.CLUSTER, "Patroni cluster", PASS, "patronictl list -f json", "[]", "leader osondb1"),
        Evidence(cat.API_AUTH, "A request without credentials is refused", PASS, "curl /api/staff", "HTTP 401",
                 "refused with 401"),
        Evidence(cat.CERTS, "Host certificates", PASS, "openssl x509 ...", "notAfter=...", "9 certificates"),
        Evidence(cat.OPENAPI, "Routes of the deployed operator service", PASS, "curl /openapi.json",
                 "\n".join(routes), f"{len(routes)} routes", {"routes": routes}),
    ]
    return {e.id: e for e in items}


def _document(evidence: dict[str, Evidence]) -> dict[str, object]:
    return audit_report.build_report(environment="lab", inventory="inventory/lab", started_at=STARTED,
                                     ended_at="2026-11-21T10:04:00.000+00:00", evidence=evidence,
                                     host={"hostname": "control"})


def _need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `apt-get install -y poppler-utils`")


def test_healthy_evidence_passes_with_only_manual_duties_left() -> None:
    document = _document(recorded_evidence())
    assert document["passed"] is True
    counts = document["summary"]["controls"]
    assert counts["fail"] == 0
    assert counts["pass"] + counts["manual"] == len(cat.CONTROLS)
    assert counts["manual"] == sum(1 for c in cat.CONTROLS if c.manual)
    assert document["summary"]["lynis_hardening_index"] == {"oson1": 82, "oson2": 83, "osondb1": 84, "osondb2": 85}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    evidence = recorded_evidence()
    evidence[cat.DRILL] = Evidence(cat.DRILL, "Last power-loss drills", FAIL, "python -m appliance.drills.report",
                                   detail="evidence not available: no power-loss* report in reports/")
    paths = audit_report.write_report(tmp_path_factory.mktemp("audit"), _document(evidence), key)
    return paths, key


def test_the_json_is_signed_and_changes_are_detected(written: tuple[dict[str, Path], Ed25519PrivateKey]) -> None:
    paths, key = written
    pem = public_key_pem(key)
    assert audit_report.verify_report(paths["json"], pem) == []
    assert audit_report.verify_report(paths["pdf"], pem) == []  # checks the JSON beside it
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert document["format"] == audit_report.FORMAT and document["passed"] is False
    forged = copy.deepcopy(document)
    forged["passed"] = True
    paths["json"].with_name("forged.json").write_text(json.dumps(forged), encoding="utf-8")
    problems = audit_report.verify_report(paths["json"].with_name("forged.json"), pem)
    assert any("changed after signing" in p for p in problems)
    other = public_key_pem(Ed25519PrivateKey.generate())
    assert audit_report.verify_report(paths["json"], other)


def test_the_html_has_every_section_and_the_failure(written: tuple[dict[str, Path], Ed25519PrivateKey]) -> None:
    html = written[0]["html"].read_text(encoding="utf-8")
    for section in audit_report.SECTIONS:
        assert f">{section}</h2>" in html, section
    assert "FAILED" in html and "no power-loss* report" in html
    assert "HARD-SYSCTL-03" in html and "a container shares the host kernel" in html


def test_the_pdf_shows_every_section_and_its_first_page_is_not_blank(
        written: tuple[dict[str, Path], Ed25519PrivateKey], tmp_path: Path) -> None:
    _need("pdftotext", "pdftoppm")
    pdf = written[0]["pdf"]
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout
    for section in audit_report.SECTIONS:
        assert section in text, f"section {section!r} missing from the PDF text"
    for control in cat.CONTROLS:
        assert control.section in text, control.section
    assert "FAILED" in text and "osondb2" in text
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-gray", str(pdf), str(prefix)],
                   check=True, timeout=60)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", "-png", str(pdf), str(prefix)],
                   check=True, timeout=60)
    pngs = list(tmp_path.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG")
    pgm = next(tmp_path.glob("page*.pgm")).read_bytes()
    header, _, pixels = _split_pgm(pgm)
    assert header[0] == b"P5"
    dark = sum(1 for value in pixels if value < 128)
    assert dark > len(pixels) // 200, "the first page looks blank"


def _split_pgm(data: bytes) -> tuple[list[bytes], int, bytes]:
    """Binary PGM: 'P5', width, height, maxval, then one byte per pixel."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    return fields, position + 1, data[position + 1:]


def test_a_failing_evidence_item_makes_the_exit_code_non_zero(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    key = Ed25519PrivateKey.generate()
    healthy = recorded_evidence()
    assert command.finish_audit(environment="lab", inventory=Path("inventory/lab"), started_at=STARTED,
                                evidence=healthy, key=key, directory=tmp_path / "ok", as_json=False) == 0
    printed = capsys.readouterr().out
    assert "audit PASSED" in printed and "osondb2" in printed and "85" in printed
    broken = recorded_evidence()
    broken[cat.FIREWALL] = Evidence(cat.FIREWALL, "Firewall flow test", FAIL, "osonctl firewall test",
                                    detail="deny-web-db-5432 connected")
    assert command.finish_audit(environment="lab", inventory=Path("inventory/lab"), started_at=STARTED,
                                evidence=broken, key=key, directory=tmp_path / "bad", as_json=True) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["passed"] is False and body["summary"]["failed_evidence"] == [cat.FIREWALL]
    assert Path(body["files"]["pdf"]).exists()



def test_missing_evidence_fails_the_audit() -> None:
    missing = recorded_evidence()
    del missing[cat.HARDENING]
    document = _document(missing)
    assert document["passed"] is False
    failed = {row["section"] for row in document["duties_xiii"] if row["status"] == FAIL}
    assert failed == {"§13.2(3)", "§13.2(6)", "§13.2(7)", "§13.2(9)"}
