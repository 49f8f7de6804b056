"""Signed drill reports: a signed report verifies, any change to it is detected, the HTML shows the verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import secrets
from appliance.drills import report
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def _document(passed: bool = True) -> dict[str, Any]:
    timeline = report.Timeline()
    timeline.step("load started", concurrency=8)
    timeline.step("power cut")
    verdict = {"acknowledged": 1200, "missing": 0 if passed else 3, "duplicates": 0, "ok": passed}
    checks = [{"name": "every acknowledged operation is in the ledger", "ok": passed,
               "detail": f"1200 acknowledged, {verdict['missing']} missing"},
              {"name": "event chain verifies", "ok": True, "detail": "GET /api/events/verify"}]
    return report.build_report(
        name="power-loss <db-1>", environment="lab", started_at="2026-03-01T10:00:00.000+00:00",
        ended_at="2026-03-01T10:05:00.000+00:00", timeline=timeline.steps,
        figures={"rto_seconds": 12.5, "time_to_writes_seconds": 14.25, "city": "Алматы"},
        verdict=verdict, checks=checks, problems=[] if passed else ["3 acknowledged operations are missing"])


@pytest.fixture()
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_report_verifies_with_its_public_key(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    json_path, html_path = report.write_report(tmp_path, _document(), key)
    assert json_path.name.startswith("power-loss-db-1-20260301100000") and json_path.suffix == ".json"
    assert html_path == json_path.with_suffix(".html")
    assert report.verify_report(json_path, report.public_key_pem(key)) == []
    assert report.verify_report(html_path, report.public_key_pem(key)) == []  # checks the JSON beside it
    signed = json.loads(json_path.read_text(encoding="utf-8"))
    assert signed["signature"]["key_fingerprint"] == report.key_fingerprint(key.public_key())
    assert signed["figures"]["city"] == "Алматы"


@pytest.mark.parametrize("tamper", [
    lambda d: d["figures"].__setitem__("rto_seconds", 9.5),
    lambda d: d["verdict"].__setitem__("missing", 0),
    lambda d: d.__setitem__("passed", True),
    lambda d: d["timeline"].pop(),
    lambda d: d["checks"][0].__setitem__("ok", True),
    lambda d: d.__setitem__("extra", "added after signing"),
])
def test_any_change_after_signing_is_detected(tmp_path: Path, key: Ed25519PrivateKey, tamper: Any) -> None:
    json_path, _ = report.write_report(tmp_path, _document(passed=False), key)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    tamper(document)
    json_path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    problems = report.verify_report(json_path, report.public_key_pem(key))
    assert len(problems) == 1 and "changed after signing" in problems[0]


def test_reformatting_the_json_keeps_it_valid(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    json_path, _ = report.write_report(tmp_path, _document(), key)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    json_path.write_text(json.dumps(dict(reversed(list(document.items()))), ensure_ascii=True), encoding="utf-8")
    assert report.verify_report(json_path, report.public_key_pem(key)) == []


def test_another_key_or_no_signature_is_reported(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    json_path, _ = report.write_report(tmp_path, _document(), key)
    other = Ed25519PrivateKey.generate()
    problems = report.verify_report(json_path, report.public_key_pem(other))
    assert any("not with the given key" in p for p in problems)
    assert any("changed after signing" in p for p in problems)

    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(_document()), encoding="utf-8")
    assert report.verify_report(unsigned, report.public_key_pem(key)) == ["the report carries no signature"]
    assert report.verify_report(tmp_path / "absent.json", report.public_key_pem(key)) == [
        f"{tmp_path / 'absent.json'} not found"]


def test_the_html_page_shows_verdict_figures_timeline_and_escapes_text(tmp_path: Path,
                                                                       key: Ed25519PrivateKey) -> None:
    _, passed_html = report.write_report(tmp_path / "a", _document(passed=True), key)
    _, failed_html = report.write_report(tmp_path / "b", _document(passed=False), key)
    passed, failed = passed_html.read_text(encoding="utf-8"), failed_html.read_text(encoding="utf-8")
    assert "PASSED" in passed and "FAILED" not in passed.split("<h2>Checks</h2>")[0]
    assert "FAILED" in failed and "1 of\n  2 checks failed" in failed
    assert "3 acknowledged operations are missing" in failed
    for text in ("rto_seconds", "12.5", "time_to_writes_seconds", "load started", "power cut", "Алматы",
                 report.key_fingerprint(key.public_key())):
        assert text in passed
    assert "power-loss &lt;db-1&gt;" in passed and "<db-1>" not in passed


def test_the_command_line_verifier_exits_nonzero_on_a_tampered_report(tmp_path: Path, key: Ed25519PrivateKey,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    json_path, _ = report.write_report(tmp_path, _document(), key)
    public = tmp_path / "report-key.pub.pem"
    public.write_text(report.public_key_pem(key), encoding="ascii")
    assert report.main(["verify", str(json_path), "--public-key", str(public)]) == 0
    document = json.loads(json_path.read_text(encoding="utf-8"))
    document["verdict"]["acknowledged"] = 1201
    json_path.write_text(json.dumps(document), encoding="utf-8")
    assert report.main(["verify", str(json_path), "--public-key", str(public)]) == 1
    assert "NOT VALID" in capsys.readouterr().out


def test_reports_are_signed_with_the_vault_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSON_VAULT_PASSWORD_FILE", str(tmp_path / "vault-pass"))
    inventory = tmp_path / "inventory"
    topology = load_topology(ROOT / "inventory" / "lab" / "topology.yml")
    secrets.ensure_secrets(inventory, topology)
    key = report.load_signing_key(inventory, topology)
    json_path, _ = report.write_report(tmp_path / "reports", _document(), key)
    assert report.verify_report(json_path, report.signing_public_key_pem(inventory, topology)) == []
