"""Run the hardware part of playbooks/prechecks.yml and judge its report.

The targets come from the topology: each hypervisor's iLO (`hypervisors[].bmc_address`) and OS
(`hypervisors[].address`), and the MSA 2040's management address (`san.management_addresses`).
Platforms without them (the lab, Vagrant) have no hardware to check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from appliance.ansible_run import PlaybookError, ansible_bin, task_results
from appliance.hwchecks.findings import Finding
from appliance.hwchecks.hostfacts import evaluate_host_facts
from appliance.hwchecks.minimums import HardwareMinimums
from appliance.hwchecks.msa import evaluate_msa, login_accepted
from appliance.hwchecks.redfish import ServerInventory, evaluate_server
from appliance.paths import PLAYBOOKS, PROJECT_ROOT
from appliance.topology import Topology

REDFISH_TASKS = {
    "systems": "Read systems, processors, memory and disks (Redfish Systems)",
    "chassis": "Read power supplies and fans (Redfish Chassis)",
    "update": "Read the firmware inventory (Redfish UpdateService)",
    "manager": "Read the management controller (Redfish Managers)",
}
MSA_SHOW_TASK = "Read the MSA's disks and controllers (show disks, show controllers)"
MSA_LOGIN_TASK = "Log in to the MSA management API"
FACTS_TASK = "Gather the hypervisor facts"


def hardware_targets(topology: Topology) -> dict[str, list[dict[str, str]]]:
    """The playbook's extra variables: what to ask, named after the topology's hypervisors."""
    san = topology.model_dump().get("san") or {}
    msa = [str(a) for a in san.get("management_addresses", [])][:1]
    return {
        "prechecks_bmcs": [{"name": hv.name, "baseuri": str(hv.bmc_address)}
                           for hv in topology.hypervisors if hv.bmc_address],
        "prechecks_hypervisors": [{"name": hv.name, "address": str(hv.address), "user": topology.ssh_user}
                                  for hv in topology.hypervisors if hv.address],
        "prechecks_msa": [{"name": "msa", "address": a} for a in msa],
    }


def has_hardware(targets: dict[str, list[dict[str, str]]]) -> bool:
    return any(targets.values())


def run_playbook_json(inventory_source: str, tags: str, extra_vars: dict[str, Any],
                      vault_password_file: Path | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """prechecks.yml with the JSON callback, only the plays with `tags`; the report as a dict."""
    environment = dict(os.environ)
    environment.update({
        "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
    })
    environment.update(env or {})
    cmd = [ansible_bin("ansible-playbook"), "-i", inventory_source, str(PLAYBOOKS / "prechecks.yml"),
           "--tags", tags, "--extra-vars", json.dumps(extra_vars)]
    if vault_password_file is not None:
        cmd += ["--vault-password-file", str(vault_password_file)]
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, check=False)
    try:
        return dict(json.loads(proc.stdout))
    except json.JSONDecodeError:
        raise PlaybookError(f"prechecks.yml ({tags}) failed: {proc.stderr.strip() or proc.stdout[-2000:]}") from None


def _loop_results(report: dict[str, Any], task: str) -> list[dict[str, Any]]:
    return list(task_results(report, task).get("localhost", {}).get("results", []))


def evaluate_hardware(report: dict[str, Any], targets: dict[str, list[dict[str, str]]],
                      minimums: HardwareMinimums) -> list[Finding]:
    findings: list[Finding] = []
    by_server: dict[str, dict[str, dict[str, Any]]] = {b["name"]: {} for b in targets.get("prechecks_bmcs", [])}
    for category, task in REDFISH_TASKS.items():
        for result in _loop_results(report, task):
            name = (result.get("item") or {}).get("name")
            if name in by_server:
                by_server[name][category] = result
    for name, results in by_server.items():
        for category in REDFISH_TASKS:
            results.setdefault(category, {"failed": True, "msg": "the playbook did not ask (did it stop early?)"})
        findings += evaluate_server(name, ServerInventory.from_results(results), minimums)

    logins = {(r.get("item") or {}).get("name"): r for r in _loop_results(report, MSA_LOGIN_TASK)}
    shows: dict[tuple[str, str], dict[str, Any]] = {}
    for result in _loop_results(report, MSA_SHOW_TASK):
        item = result.get("item") or [{}, ""]
        shows[(str(item[0].get("item", {}).get("name")), str(item[1]))] = result
    for target in targets.get("prechecks_msa", []):
        name = target["name"]
        login = logins.get(name, {})
        if login.get("failed") or login.get("status") != 200:
            findings.append(Finding(name, "msa api", False,
                                    f"https://{target['address']}/api/login did not answer "
                                    f"({str(login.get('msg', 'no answer'))[:200]}): check san.management_addresses "
                                    "and that the array's HTTPS management (WBI/API) is enabled"))
            continue
        if not login_accepted(str(login.get("content", ""))):
            findings.append(Finding(name, "msa api", False,
                                    "the MSA refused the login: check vault_msa_username and vault_msa_password "
                                    "(a user with the monitor role is enough)"))
            continue
        findings += evaluate_msa(name, str(shows.get((name, "disks"), {}).get("content", "")),
                                 str(shows.get((name, "controllers"), {}).get("content", "")), minimums)

    facts = task_results(report, FACTS_TASK)
    for target in targets.get("prechecks_hypervisors", []):
        name = target["name"]
        result = facts.get(name)
        if result is None or result.get("unreachable") or result.get("failed"):
            msg = (result or {}).get("msg", "no answer")
            findings.append(Finding(name, "os reachable", False,
                                    f"cannot read the OS facts over SSH at {target['address']}: {str(msg)[:200]}. "
                                    "Install Debian 12 with the deploy user's SSH key first (see the runbook)"))
            continue
        findings += evaluate_host_facts(name, result.get("ansible_facts", {}), minimums)
    return findings
