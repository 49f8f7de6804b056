"""The negative control loses acknowledged payments and the verdict says so; the durable twin loses none.

Each test starts its own throwaway PostgreSQL and operator service, sends payments for a few seconds,
SIGKILLs both, restarts them and runs the verdict (about 15-30 s each on two cores).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.drills import report
from appliance.drills.negative_control import negative_control, positive_control

pytestmark = pytest.mark.timeout(180)


def test_weak_durability_loses_acknowledged_payments_and_the_verdict_fails(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    result = negative_control(load_seconds=3.0, signing_key=key, report_dir=tmp_path, out=None)
    verdict = result.verdict
    assert result.load.acknowledged > 50, result.load  # a real load ran before the cut
    assert verdict.acknowledged == result.load.acknowledged
    assert verdict.missing > 0, verdict
    assert not verdict.ok and result.as_expected
    # What was lost is the tail of the log, consistently: no half operation, the chain still verifies.
    assert verdict.ledger_ok and verdict.events_ok
    assert (verdict.duplicates, verdict.unexplained, verdict.mismatched) == (0, 0, 0)

    assert result.report is not None
    json_path, html_path = result.report
    assert report.verify_report(json_path, report.public_key_pem(key)) == []
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["verdict"]["missing"] == verdict.missing and document["passed"] is True
    assert document["figures"]["database_settings"]["synchronous_commit"] == "off"
    assert [s["step"] for s in document["timeline"]][-3:] == [
        "power cut: PostgreSQL and the service SIGKILLed", "PostgreSQL recovered and the service restarted",
        "verdict"]
    assert "missing" in html_path.read_text(encoding="utf-8")


def test_durable_settings_lose_nothing_even_when_cut_under_load() -> None:
    result = positive_control(load_seconds=3.0, cut_under_load=True, out=None)
    verdict = result.verdict
    assert result.load.acknowledged > 50, result.load
    assert verdict.acknowledged == result.load.acknowledged
    assert verdict.missing == 0 and verdict.duplicates == 0 and verdict.unexplained == 0, verdict
    assert verdict.unsettled == 0 and verdict.uncertain_settled == verdict.uncertain
    assert verdict.ok and result.as_expected
    assert result.report is None  # no key, no report
    assert result.figures["database_settings"]["synchronous_commit"] == "on"
