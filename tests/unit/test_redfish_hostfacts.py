"""The hypervisors' OS checks judge recorded `setup` output of a DL360 Gen10 (and of machines that must fail)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.hwchecks.hostfacts import evaluate_host_facts
from appliance.hwchecks.minimums import HardwareMinimums, for_topology
from appliance.hwchecks.run import FACTS_TASK, evaluate_hardware, hardware_targets
from appliance.topology import load_topology

FACTS = Path(__file__).resolve().parents[1] / "fixtures/facts"
ROOT = Path(__file__).resolve().parents[2]


def _facts(name: str) -> dict[str, Any]:
    return dict(json.loads((FACTS / name).read_text())["ansible_facts"])


def _failed(name: str) -> dict[str, str]:
    return {f.check: f.detail for f in evaluate_host_facts("hv", _facts(name), HardwareMinimums()) if not f.ok}


def test_debian12_on_two_gold_6148_with_128_gb_passes() -> None:
    assert _failed("dl360-gen10-debian12.json") == {}


def test_one_cpu_64_gb_and_debian11_fail_with_what_to_do() -> None:
    failed = _failed("dl360-gen10-one-cpu-debian11.json")
    assert set(failed) == {"os", "os cpus", "os memory"}
    assert "reinstall from the Debian 12" in failed["os"]
    assert failed["os cpus"].startswith("1 x Intel(R) Xeon(R) Gold 6148")
    assert "62.7 GiB seen by the OS" in failed["os memory"]


def test_a_virtual_machine_is_not_a_hypervisor() -> None:
    assert set(_failed("kvm-guest-debian12.json")) == {"bare metal"}


def test_production_topology_targets_and_an_unreachable_hypervisor() -> None:
    topology = load_topology(ROOT / "inventory/production")
    targets = hardware_targets(topology)
    assert [b["baseuri"] for b in targets["prechecks_bmcs"]] == ["10.10.0.105", "10.10.0.106"]
    report = {"plays": [{"tasks": [{"task": {"name": FACTS_TASK}, "hosts": {
        "dl360-a": json.loads((FACTS / "dl360-gen10-debian12.json").read_text()),
        "dl360-b": {"unreachable": True, "msg": "ssh: connect to host 10.10.0.6 port 22: No route to host"}}}]}]}
    only_os = {**targets, "prechecks_bmcs": [], "prechecks_msa": []}
    findings = evaluate_hardware(report, only_os, for_topology(topology))
    assert [f.check for f in findings if not f.ok] == ["os reachable"]
    assert "No route to host" in next(f.detail for f in findings if not f.ok)


def test_the_topology_can_raise_but_not_lower_the_minimums() -> None:
    topology = load_topology(ROOT / "inventory/production")
    bigger = topology.model_copy(update={"hypervisors": [hv.model_copy(update={"cpus": 56, "memory_gb": 256})
                                                         for hv in topology.hypervisors]})
    smaller = topology.model_copy(update={"hypervisors": [hv.model_copy(update={"cpus": 8, "memory_gb": 32})
                                                          for hv in topology.hypervisors]})
    assert (for_topology(bigger).cores_per_cpu, for_topology(bigger).memory_gib) == (28, 256)
    assert (for_topology(smaller).cores_per_cpu, for_topology(smaller).memory_gib) == (20, 128)
