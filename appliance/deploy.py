"""`osonctl deploy` converges the appliance VMs with the site playbook; `osonctl rack` turns the bare
hypervisors and the SAN into those VMs with the rack playbook (production only)."""

from __future__ import annotations

import time
from pathlib import Path

from appliance.ansible_run import recap_lines, run_playbook
from appliance.firewall.model import PolicyError
from appliance.firewall.render import render_all
from appliance.paths import PLAYBOOKS, PROJECT_ROOT
from appliance.secrets import ensure_secrets, vault_password_file
from appliance.topology import load_topology


def run(inventory: Path, *, check: bool = False, limit: str | None = None, tags: str | None = None,
        playbook: str = "site.yml") -> int:
    topology = load_topology(inventory)
    if playbook == "rack.yml" and topology.san is None:
        print(f"osonctl: {inventory}/topology.yml has no `san:` section: the rack playbook is for a physical "
              "rack (see docs/runbook.md); the lab and Vagrant bring their own VMs")
        return 2
    added = ensure_secrets(inventory, topology)
    if added:
        print(f"==> generated secrets: {', '.join(added)} (vault: {inventory}/group_vars/all/vault.yml)")
    try:
        rendered = render_all(topology)  # the VMs' firewalls come from it; harmless before the rack play
    except PolicyError as err:
        print(f"osonctl: {err}")
        return 2
    print(f"==> firewall rendered into {rendered.directory}")
    extra: list[str] = []
    if check:
        extra += ["--check", "--diff"]
    if limit:
        extra += ["--limit", limit]
    if tags:
        extra += ["--tags", tags]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = run_playbook(
        PLAYBOOKS / playbook,
        inventory / "topology.yml",
        log_file=PROJECT_ROOT / "artifacts" / "logs" / f"{playbook.removesuffix('.yml')}-{topology.name}-{stamp}.log",
        vault_password_file=vault_password_file(topology),
        extra_args=extra,
    )
    print("\n".join(recap_lines(result)))
    print(f"deploy {'succeeded' if result.ok else 'FAILED'} in {result.seconds:.0f}s; log: {result.log_file}")
    return 0 if result.ok else 1
