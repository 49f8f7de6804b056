"""Everything rendered from the policy for one inventory, written to `<state dir>/firewall/`:

    fortigate.conf        FortiOS CLI script for the FortiGate pair (review or paste)
    fortios-vars.yml      the same objects as variables of roles/fortigate
    nftables/<host>.nft   each VM's ruleset, installed by roles/host_firewall
    lab-forward.nft       the lab only: the lab machine's table between the lab networks
    flows.md              the zones and flows, for people

The config backup archives this directory with the inventory.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from appliance.firewall.fortios import render_fortios_script, render_fortios_vars
from appliance.firewall.labnet import LabFirewallError, lab_bridges, render_lab_enforcement
from appliance.firewall.nftables import render_host_rulesets
from appliance.firewall.resolve import ResolvedPolicy, load_resolved
from appliance.firewall.show import flows_markdown
from appliance.secrets import state_dir
from appliance.topology import Topology


@dataclass
class Rendered:
    directory: Path
    files: list[Path]
    notes: list[str]


def firewall_dir(topology: Topology) -> Path:
    return state_dir(topology) / "firewall"


def _write(path: Path, text: str, files: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    files.append(path)


def render_all(topology: Topology, *, policy_file: Path | None = None, out_dir: Path | None = None,
               bridges: dict[str, str] | None = None) -> Rendered:
    """Render every output; raises PolicyError when the policy does not fit the topology."""
    resolved: ResolvedPolicy = load_resolved(topology, policy_file)
    directory = out_dir or firewall_dir(topology)
    files: list[Path] = []
    notes: list[str] = []
    _write(directory / "fortigate.conf", render_fortios_script(resolved), files)
    header = "# Rendered from firewall/policy.yml by `osonctl firewall render`; read by roles/fortigate.\n"
    _write(directory / "fortios-vars.yml",
           header + yaml.safe_dump(render_fortios_vars(resolved), sort_keys=False, width=120), files)
    nft_dir = directory / "nftables"
    # Hosts removed from the topology must not keep a stale ruleset around.
    if nft_dir.is_dir():
        shutil.rmtree(nft_dir)
    for host, text in render_host_rulesets(resolved).items():
        _write(nft_dir / f"{host}.nft", text, files)
    _write(directory / "flows.md", flows_markdown(resolved), files)
    if topology.platform == "container":
        try:
            _write(directory / "lab-forward.nft",
                   render_lab_enforcement(resolved, bridges or lab_bridges(topology)), files)
        except LabFirewallError as err:
            notes.append(f"lab-forward.nft not rendered: {err}")
    return Rendered(directory, files, notes)
