"""`osonctl prechecks`: no-impact checks before a deploy, judged against the topology.

Two scopes: the appliance VMs (reachable, Python, sizes, free disk, VIPs free) and the hardware
(the servers' iLOs over Redfish, the MSA 2040 over its API, the hypervisors' OS facts; see
appliance/hwchecks). Nothing is changed on any host or controller.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from appliance.ansible_run import task_results
from appliance.hwchecks.findings import Finding, as_json, table
from appliance.hwchecks.minimums import for_topology
from appliance.hwchecks.run import evaluate_hardware, hardware_targets, has_hardware, run_playbook_json
from appliance.secrets import ensure_secrets, vault_password_file
from appliance.topology import Topology, load_topology

__all__ = ["Finding", "add_parser", "evaluate", "gather", "held_vips", "run"]

# A VM may report slightly less memory than it was given (kernel reservations).
MEMORY_TOLERANCE = 0.9
SCOPES = ("all", "vms", "hardware")


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
    """The VM plays of prechecks.yml (tag `vms`) as a JSON report."""
    try:
        return run_playbook_json(str(inventory / "topology.yml"), "vms", {}, vault_password_file(topology))
    except RuntimeError as err:
        raise RuntimeError(f"prechecks playbook failed: {err}") from None


def hardware_findings(inventory: Path, topology: Topology) -> list[Finding]:
    """The hardware plays of prechecks.yml (tag `hardware`) judged against the §14.2 minimums."""
    targets = hardware_targets(topology)
    if not has_hardware(targets):
        return [Finding("-", "hardware", True, f"the {topology.environment} topology names no BMC, hypervisor or "
                        "MSA address: no physical hardware to check")]
    report = run_playbook_json(str(inventory / "topology.yml"), "hardware", targets, vault_password_file(topology))
    return evaluate_hardware(report, targets, for_topology(topology))


def run(inventory: Path, scope: str = "all", as_json_output: bool = False) -> int:
    topology = load_topology(inventory)
    if not as_json_output:
        print(f"==> prechecks ({scope}) for {topology.name} ({topology.environment}), {len(topology.hosts)} VMs, "
              f"{len(topology.hypervisors)} servers; changes nothing", flush=True)
    # The group variables include the vault, so it must exist (generating it changes no host).
    ensure_secrets(inventory, topology)
    findings: list[Finding] = []
    if scope in ("all", "hardware"):
        findings += hardware_findings(inventory, topology)
    if scope in ("all", "vms"):
        report = gather(inventory, topology)
        findings += evaluate(topology, report, held_vips(topology, report))
    failed = [f for f in findings if not f.ok]
    if as_json_output:
        print(json.dumps({**as_json(findings), "scope": scope, "topology": topology.name,
                          "minimums": for_topology(topology).to_dict()}, indent=2))
        return 1 if failed else 0
    print("\n".join(table(findings)))
    if failed:
        print(f"\n{len(failed)} thing(s) to fix before deploying:")
        for f in failed:
            print(f"  - {f.host}: {f.check}: {f.detail}")
        return 1
    print("\nall prechecks passed")
    return 0


def _cmd(args: argparse.Namespace) -> int:
    return run(Path(args.inventory), args.only, args.json)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `osonctl prechecks -i INV [--only vms|hardware] [--json]`."""
    p = sub.add_parser("prechecks", help="no-impact checks before a deploy: hardware (iLO/Redfish, MSA, "
                       "hypervisor OS) and the appliance VMs",
                       description="Check, without changing anything, that the rack meets the §14.2 minimums "
                       "(CPUs, memory, MSA SSDs, firmware, health) and that the VMs are reachable, big enough and "
                       "that the VIPs are free. Exits 1 when something must be fixed.")
    p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    p.add_argument("--only", choices=SCOPES, default="all",
                   help="hardware: only the servers, the MSA and the hypervisors' OS (before any VM exists); "
                   "vms: only the appliance VMs; all (default): both")
    p.add_argument("--json", action="store_true", help="print the findings and the minimums as JSON")
    p.set_defaults(func=_cmd)
