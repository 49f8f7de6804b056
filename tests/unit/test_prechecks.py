"""Prechecks judge recorded facts against the topology and list what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.prechecks import evaluate, held_vips
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = load_topology(ROOT / "inventory/production")


def _report(
    *,
    unreachable: set[str] = frozenset(),  # type: ignore[assignment]
    no_python: set[str] = frozenset(),  # type: ignore[assignment]
    vcpus: int = 64,
    mem_mb: int = 200_000,
    free_kb: int = 500 * 1024**2,
    vips: str = '{"public": "free", "db_frontend": "free"}',
    lb_addresses: tuple[str, ...] = (),
) -> dict[str, Any]:
    python: dict[str, Any] = {}
    facts: dict[str, Any] = {}
    df: dict[str, Any] = {}
    for host in TOPOLOGY.hosts:
        if host in unreachable:
            python[host] = {"unreachable": True, "msg": "Connection timed out"}
            continue
        python[host] = {"rc": 1 if host in no_python else 0, "stdout": "/usr/bin/python3\n(3, 11)\n"}
        facts[host] = {
            "ansible_facts": {
                "ansible_processor_vcpus": vcpus,
                "ansible_memtotal_mb": mem_mb,
                "ansible_all_ipv4_addresses": list(lb_addresses) if host == "osonlb1" else [],
            }
        }
        df[host] = {
            "stdout": f"Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda 1 1 {free_kb} 1% /\n"
        }

    def task(name: str, hosts: dict[str, Any]) -> dict[str, Any]:
        return {"task": {"name": name}, "hosts": hosts}

    return {
        "plays": [
            {
                "tasks": [
                    task("Check that Python 3 is on the host (raw, works without Python)", python),
                    task("Gather hardware facts", facts),
                    task("Measure free disk where the data will live", df),
                ]
            },
            {"tasks": [task("Try the VIP addresses", {"osonlb1": {"stdout": vips}})]},
        ]
    }


def _failed(report: dict[str, Any]) -> list[str]:
    return [f"{f.host}:{f.check}" for f in evaluate(TOPOLOGY, report, held_vips(TOPOLOGY, report)) if not f.ok]


def test_all_good() -> None:
    assert _failed(_report()) == []


def test_unreachable_and_missing_python_are_listed() -> None:
    failed = _failed(_report(unreachable={"osondb2"}, no_python={"oson1"}))
    assert "osondb2:reachable" in failed and "oson1:python" in failed


def test_too_small_vms() -> None:
    failed = _failed(_report(vcpus=2, mem_mb=4096, free_kb=1024**2))
    # The db VMs want 8 vCPUs and 32 GB; the lb VMs (2 vCPUs, 4 GB) pass; nobody has 10 GB free.
    assert "osondb1:cpus" in failed and "osondb1:memory" in failed
    assert "osonlb1:cpus" not in failed and "osonlb1:memory" not in failed
    assert all(f"{h}:disk" in failed for h in TOPOLOGY.hosts)


def test_vip_in_use_by_someone_else() -> None:
    failed = _failed(_report(vips='{"public": "answers", "db_frontend": "free"}'))
    assert failed == ["-:vip public"]


def test_vip_held_by_our_own_keepalived_is_fine() -> None:
    vip = str(TOPOLOGY.vips["public"].address)
    report = _report(vips='{"public": "answers", "db_frontend": "free"}', lb_addresses=(vip,))
    assert _failed(report) == []
