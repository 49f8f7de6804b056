"""Hardware prechecks against recorded answers: the real redfish_info module and the real prechecks
playbook query a local HTTPS server that plays back a DL360 Gen10's iLO 5 and an MSA 2040's API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from appliance.hwchecks.findings import Finding, as_json, table
from appliance.hwchecks.minimums import HardwareMinimums
from appliance.hwchecks.mockserver import RecordedController
from appliance.hwchecks.run import evaluate_hardware, run_playbook_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OK_SERVER = [FIXTURES / "redfish/dl360-gen10"]
DEGRADED_SERVER = [FIXTURES / "redfish/dl360-gen10-degraded", *OK_SERVER]
OK_MSA = [FIXTURES / "msa/msa2040"]
DEGRADED_MSA = [FIXTURES / "msa/msa2040-degraded", *OK_MSA]
USER, PASSWORD = "precheck", "recorded-password"


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One playbook run over four recorded controllers: a good and a degraded server, a server whose BMC
    refuses our password, a good and a degraded MSA."""
    inventory = tmp_path_factory.mktemp("inv") / "hosts.ini"
    inventory.write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    with (RecordedController(OK_SERVER, OK_MSA, USER, PASSWORD) as good,
          RecordedController(DEGRADED_SERVER, DEGRADED_MSA, USER, PASSWORD) as bad,
          RecordedController(OK_SERVER, OK_MSA, USER, "another-password") as locked):
        targets = {
            "prechecks_bmcs": [{"name": "dl360-a", "baseuri": good.baseuri},
                               {"name": "dl360-b", "baseuri": bad.baseuri},
                               {"name": "dl360-c", "baseuri": locked.baseuri}],
            "prechecks_msa": [{"name": "msa-good", "address": good.baseuri},
                              {"name": "msa-bad", "address": bad.baseuri},
                              {"name": "msa-locked", "address": locked.baseuri}],
            "prechecks_hypervisors": [],
        }
        report = run_playbook_json(
            str(inventory), "hardware",
            {**targets, "prechecks_bmc_username": USER, "prechecks_bmc_password": PASSWORD,
             "prechecks_msa_username": USER, "prechecks_msa_password": PASSWORD, "prechecks_bmc_timeout": 10},
            # Only the ini plugin: this run needs no topology inventory.
            env={"ANSIBLE_INVENTORY_ENABLED": "ansible.builtin.ini"})
        requests = list(good.requests)
    findings = evaluate_hardware(report, targets, HardwareMinimums())
    return {"findings": findings, "requests": requests}


def _of(findings: list[Finding], host: str) -> dict[str, Finding]:
    return {f.check: f for f in findings if f.host == host}


def test_the_module_really_walked_the_recorded_ilo(judged: dict[str, Any]) -> None:
    asked = set(judged["requests"])
    for uri in ("/redfish/v1/Systems/1/", "/redfish/v1/Systems/1/Processors/2/", "/redfish/v1/Chassis/1/Power/",
                "/redfish/v1/Chassis/1/Thermal/", "/redfish/v1/Managers/1/",
                "/redfish/v1/UpdateService/FirmwareInventory/2/", "/api/show/disks", "/api/show/controllers"):
        assert uri in asked


def test_a_good_dl360_passes_every_check(judged: dict[str, Any]) -> None:
    good = _of(judged["findings"], "dl360-a")
    assert {"model", "cpu sockets", "cpu class", "memory", "system health", "power supplies", "fans",
            "local disks", "iLO firmware", "System ROM"} <= good.keys()
    assert [f for f in good.values() if not f.ok] == []
    assert "128 GiB in 8 DIMMs" in good["memory"].detail
    assert "2.78" in good["iLO firmware"].detail and "U32 v2.72" in good["System ROM"].detail


def test_one_cpu_64_gb_and_a_failed_psu_fail_with_what_to_fix(judged: dict[str, Any]) -> None:
    bad = _of(judged["findings"], "dl360-b")
    failed = {check for check, f in bad.items() if not f.ok}
    assert failed == {"cpu sockets", "memory", "power supplies", "system health"}
    assert "1 processor(s)" in bad["cpu sockets"].detail
    assert "install the missing processor" in bad["cpu sockets"].detail
    assert "64 GiB" in bad["memory"].detail and "add DIMMs" in bad["memory"].detail
    assert "HpeServerPowerSupply 2 reports Critical" in bad["power supplies"].detail
    assert "reseat or replace the power supply" in bad["power supplies"].detail


def test_a_refused_login_names_the_credentials(judged: dict[str, Any]) -> None:
    locked = _of(judged["findings"], "dl360-c")
    assert list(locked) == ["redfish"] and not locked["redfish"].ok
    assert "401" in locked["redfish"].detail and "vault_bmc_password" in locked["redfish"].detail
    msa = _of(judged["findings"], "msa-locked")
    assert not msa["msa api"].ok and "vault_msa_password" in msa["msa api"].detail


def test_the_msa_with_eight_ssds_passes_and_a_failed_disk_and_an_hdd_do_not(judged: dict[str, Any]) -> None:
    good = _of(judged["findings"], "msa-good")
    assert [f for f in good.values() if not f.ok] == [] and "8 SSDs" in good["msa ssds"].detail
    bad = _of(judged["findings"], "msa-bad")
    assert {c for c, f in bad.items() if not f.ok} == {"msa ssds", "msa disk health"}
    assert "fit 1 more SSD" in bad["msa ssds"].detail and "1.8 HDD" in bad["msa ssds"].detail
    assert "disk 1.5" in bad["msa disk health"].detail and "Replace the disk" in bad["msa disk health"].detail


def test_table_and_json_carry_every_finding(judged: dict[str, Any]) -> None:
    findings = judged["findings"]
    lines = table(findings)
    assert len(lines) == len(findings) + 1 and any("[FAIL]" in line and "dl360-b" in line for line in lines)
    doc = as_json(findings)
    assert doc["ok"] is False and doc["failed"] == sum(1 for f in findings if not f.ok)


def test_stricter_minimums_fail_the_good_server() -> None:
    # The same recorded answers judged against a newer firmware floor: the thresholds are real inputs.
    from appliance.hwchecks.redfish import ServerInventory, evaluate_server

    inv = ServerInventory(system={"Model": "ProLiant DL360 Gen10", "BiosVersion": "U32 v2.72 (02/01/2023)",
                                  "Status": {"Health": "OK"}},
                          manager={"FirmwareVersion": "iLO 5 v2.78"})
    checks = {f.check: f for f in evaluate_server("x", inv, HardwareMinimums(ilo_firmware="3.01", system_rom="2.80"))}
    assert not checks["iLO firmware"].ok and "need iLO 5 3.01" in checks["iLO firmware"].detail
    assert not checks["System ROM"].ok


def test_the_recorder_writes_what_the_prechecks_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from appliance.hwchecks.record import main as record

    monkeypatch.setenv("OSON_BMC_USERNAME", USER)
    monkeypatch.setenv("OSON_BMC_PASSWORD", PASSWORD)
    monkeypatch.setenv("OSON_MSA_USERNAME", USER)
    monkeypatch.setenv("OSON_MSA_PASSWORD", PASSWORD)
    with RecordedController(OK_SERVER, OK_MSA, USER, PASSWORD) as bmc:
        assert record(["redfish", "--address", bmc.baseuri, "--out", str(tmp_path / "rf")]) == 0
        assert record(["msa", "--address", bmc.baseuri, "--out", str(tmp_path / "msa"), "--scrub"]) == 0
    recorded = sorted(p.relative_to(tmp_path / "rf") for p in (tmp_path / "rf").rglob("index.json"))
    source = sorted(p.relative_to(OK_SERVER[0]) for p in OK_SERVER[0].rglob("index.json"))
    assert recorded == source
    for rel in recorded:
        assert json.loads((tmp_path / "rf" / rel).read_text()) == json.loads((OK_SERVER[0] / rel).read_text())
    assert "SCRUBBED" in (tmp_path / "msa/disks.xml").read_text()
    assert "<PROPERTY" in (tmp_path / "msa/controllers.xml").read_text()
