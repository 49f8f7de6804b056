"""The audit's control catalogue covers §14.1 items 1-11 and every §XIII duty, and never passes silently."""

from __future__ import annotations

from pathlib import Path

from appliance.audit import catalogue as cat
from appliance.audit.evidence import FAIL, MANUAL, PASS, Evidence
from appliance.audit.report import judge_control

ROOT = Path(__file__).resolve().parents[2]
# §XIII of the OSON rules: 13.1, the ten duties of 13.2, then 13.3 to 13.11.
XIII = ["§13.1", *(f"§13.2({n})" for n in range(1, 11)), *(f"§13.{n}" for n in range(3, 12))]
EVIDENCE_IDS = {cat.TLS, cat.FIREWALL, cat.HARDENING, cat.EVENTS, cat.BACKUPS, cat.BACKUP_JOBS, cat.BACKUP_VERIFY,
                cat.DRILL, cat.DURABILITY, cat.CLUSTER, cat.API_AUTH, cat.CERTS, cat.OPENAPI}


def test_every_14_1_item_once_in_order() -> None:
    assert [c.section for c in cat.ITEMS_14_1] == [f"§14.1({n})" for n in range(1, 12)]


def test_every_xiii_duty_once_in_order() -> None:
    assert [c.section for c in cat.DUTIES_XIII] == XIII


def test_ids_are_unique() -> None:
    assert len(cat.by_id()) == len(cat.CONTROLS)


def test_every_control_names_existing_paths_of_the_repository() -> None:
    for control in cat.CONTROLS:
        assert control.implemented_in, control.id
        for path in control.implemented_in:
            assert (ROOT / path).exists(), f"{control.id}: {path} does not exist"


def test_every_control_is_judged_by_evidence_or_is_manual_with_a_reason() -> None:
    for control in cat.CONTROLS:
        assert control.evidence or control.routes or control.manual, control.id
        assert set(control.evidence) <= EVIDENCE_IDS, control.id
        for route in control.routes:
            method, path = route.split(" ")
            assert method in ("GET", "POST", "PUT", "PATCH", "DELETE") and path.startswith("/api/"), route


def _evidence(status: str, *ids: str) -> dict[str, Evidence]:
    found = {i: Evidence(i, i, status, "cmd", detail=f"{i} {status}") for i in ids}
    all_routes = sorted({r for c in cat.CONTROLS for r in c.routes})
    found[cat.OPENAPI] = Evidence(cat.OPENAPI, "routes", PASS, "curl", data={"routes": all_routes})
    return found


def test_a_control_passes_only_when_all_its_evidence_passed() -> None:
    control = cat.by_id()["14.1-1"]
    assert judge_control(control, _evidence(PASS, *control.evidence))["status"] == PASS
    one_failed = _evidence(PASS, *control.evidence)
    one_failed[cat.DRILL] = Evidence(cat.DRILL, "drill", FAIL, "cmd", detail="no report")
    row = judge_control(control, one_failed)
    assert row["status"] == FAIL and f"{cat.DRILL}: no report" in row["reason"]
    missing = _evidence(PASS, *control.evidence[:-1])
    row = judge_control(control, missing)
    assert row["status"] == FAIL and "evidence not available" in row["reason"]


def test_a_missing_route_or_unreadable_openapi_fails() -> None:
    control = cat.by_id()["13.8"]
    assert judge_control(control, _evidence(PASS))["status"] == PASS
    fewer = _evidence(PASS)
    fewer[cat.OPENAPI].data["routes"].remove("POST /api/incidents")
    row = judge_control(control, fewer)
    assert row["status"] == FAIL and "does not serve POST /api/incidents" in row["reason"]
    row = judge_control(control, {})
    assert row["status"] == FAIL and "evidence not available" in row["reason"]


def test_manual_duties_are_never_reported_as_passed() -> None:
    manual = [c for c in cat.CONTROLS if c.manual]
    assert {c.section for c in manual} >= {"§13.2(1)", "§13.2(8)", "§13.2(10)", "§13.11"}
    everything = _evidence(PASS, *EVIDENCE_IDS)
    for control in manual:
        row = judge_control(control, everything)
        assert row["status"] == MANUAL and row["reason"] == control.manual
