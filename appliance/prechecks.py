"""`osonctl prechecks`: no-impact checks before a deploy, judged against the topology."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.ansible_run import run_json_playbook, task_results
from appliance.secrets import ensure_secrets, vault_password_file
from appliance.topology import Topology, load_topology

# A VM may report slightly less memory than it was given (kernel reservations).
MEMORY_TOLERANCE = 0.9


@dataclass(frozen=True)
class Finding:
    host: str
    check: str
    ok: bool
    detail: str


def _free_gb(df_output: str) -> float:
    """Available space from `df -Pk` output (the last line, fourth column, in KiB)."""
    lines = df_output.strip().splitlines()
    try:
        return int(lines[-1].split()[3]) / 1024**2
    except (IndexError, ValueError):
        return 0.0


def evaluate(topology: Topology, report: dict[str, Any], held_vips: set[str] | None = None) -> list[Finding]:
    """Judge the gathered facts; `held_vips` are VIPs already held by this appliance's own lb hosts."""
    findings: list[Finding] = []
    python = task_results(report, "Check that Python 3 is on the host (raw, works without Python)")
    facts = task_results(report, "Gather hardware facts")
    vips = task_results(report, "Try the VIP addresses")
    df = task_results(report, "Measure free disk where the data will live")
    held = set(held_vips or set())
    for host_name, host in sorted(topology.hosts.items()):
        res = python.get(host_name)
        if res is None or res.get("unreachable"):
            msg = (res or {}).get("msg", "no answer")
            findings.append(Finding(host_name, "reachable", False, f"cannot reach over SSH: {str(msg)[:200]}"))
            continue
        findings.append(Finding(host_name, "reachable", True, "SSH works"))
        if res.get("rc") != 0:
            findings.append(
                Finding(host_name, "python", False, "python3 is missing: install it (apt-get install python3)")
            )
            continue
        findings.append(Finding(host_name, "python", True, str(res.get("stdout", "")).strip().splitlines()[-1]))
        f = facts.get(host_name, {}).get("ansible_facts", {})
        if not f:
            findings.append(Finding(host_name, "facts", False, "could not gather facts"))
            continue
        vcpus = int(f.get("ansible_processor_vcpus") or 0)
        findings.append(Finding(host_name, "cpus", vcpus >= host.cpus, f"{vcpus} vCPUs, topology asks for {host.cpus}"))
        mem = int(f.get("ansible_memtotal_mb") or 0)
        findings.append(
            Finding(
                host_name,
                "memory",
                mem >= host.memory_mb * MEMORY_TOLERANCE,
                f"{mem} MB, topology asks for {host.memory_mb} MB",
            )
        )
        free_gb = _free_gb(df.get(host_name, {}).get("stdout", ""))
        need = topology.minimums.free_disk_gb
        findings.append(Finding(host_name, "disk", free_gb >= need, f"{free_gb:.1f} GB free on /, need {need} GB"))
    probe = next(iter(vips.values()), {})
    states: dict[str, str] = {}
    if probe.get("stdout"):
        states = json.loads(probe["stdout"])
    for vip_name, vip in sorted(topology.vips.items()):
        state = states.get(vip_name)
        if state is None:
            findings.append(Finding("-", f"vip {vip_name}", False, f"{vip.address}: could not probe (lb hosts down?)"))
        elif state == "free":
            findings.append(Finding("-", f"vip {vip_name}", True, f"{vip.address} is free"))
        elif vip_name in held:
            findings.append(
                Finding("-", f"vip {vip_name}", True, f"{vip.address} is held by this appliance's keepalived")
            )
        else:
            findings.append(
                Finding(
                    "-", f"vip {vip_name}", False, f"{vip.address} already answers on the network: pick another address"
                )
            )
    return findings


def held_vips(topology: Topology, report: dict[str, Any]) -> set[str]:
    facts = task_results(report, "Gather hardware facts")
    held: set[str] = set()
    for host_name in topology.group_members("lb"):
        f = facts.get(host_name, {}).get("ansible_facts", {})
        addresses = set(f.get("ansible_all_ipv4_addresses", []))
        held |= {name for name, vip in topology.vips.items() if str(vip.address) in addresses}
    return held


def gather(inventory: Path, topology: Topology) -> dict[str, Any]:
    try:
        return run_json_playbook(inventory, vault_password_file(topology), "prechecks.yml")
    except RuntimeError as err:
        raise RuntimeError(f"prechecks playbook failed: {err}") from None


def run(inventory: Path) -> int:
    topology = load_topology(inventory)
    print(f"==> prechecks for {topology.name} ({topology.environment}), {len(topology.hosts)} hosts; changes nothing")
    # The group variables include the vault, so it must exist (generating it changes no host).
    ensure_secrets(inventory, topology)
    report = gather(inventory, topology)
    findings = evaluate(topology, report, held_vips(topology, report))
    for f in findings:
        print(f"  [{'ok' if f.ok else 'FAIL':4}] {f.host:12} {f.check:16} {f.detail}")
    failed = [f for f in findings if not f.ok]
    if failed:
        print(f"\n{len(failed)} thing(s) to fix before deploying:")
        for f in failed:
            print(f"  - {f.host}: {f.check}: {f.detail}")
        return 1
    print("\nall prechecks passed")
    return 0
