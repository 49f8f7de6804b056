"""The hardening role on a throwaway VM of the lab's base image: converge twice, check, Lynis.

One privileged systemd container of the lab's base image (not part of the lab: its own name, no lab
label) gets the base and hardening roles with the lab's waivers, as in the site playbook. Then:

* the second converge changes nothing;
* `oson-hardening-check --json` reports every control as pass or waived, and exactly the lab's
  waivers as waived;
* `oson-lynis --report` gives the Lynis hardening index, recorded as a figure; the goal is 80.

The container is removed at the end. About 3 minutes on an idle 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from appliance.ansible_run import run_playbook
from appliance.hardening import LYNIS_INDEX_GOAL, parse_check_json, parse_lynis_report
from appliance.lab import image_name

REPO = Path(__file__).resolve().parents[2]
LAB_WAIVERS = REPO / "inventory" / "lab" / "group_vars" / "all" / "hardening.yml"
ARTIFACTS = REPO / "artifacts"
FIGURES = ARTIFACTS / "figures.json"
CONTAINER = "osonharden-test"
PLAYBOOK = """\
- name: Base system and hardening on a throwaway VM, as in the site playbook
  hosts: all
  become: true
  gather_subset: [min, network]
  vars:
    # The lab's settings: chrony only watches the clock it shares with the host.
    oson_environment: lab
    base_manage_etc_hosts: false
  roles:
    - role: base
    - role: hardening
"""

pytestmark = pytest.mark.lab


def _podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=timeout)


def _record_figure(name: str, value: object) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[name] = value
    FIGURES.write_text(json.dumps(figures, indent=2))


@pytest.fixture
def vm() -> Iterator[str]:
    _podman("rm", "-f", CONTAINER, check=False)
    _podman("run", "-d", "--privileged", "--systemd=always", "--name", CONTAINER, image_name(), "/sbin/init")
    try:
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            state = _podman("exec", CONTAINER, "systemctl", "is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
        assert state in ("running", "degraded"), f"systemd in {CONTAINER} did not boot: {state}"
        yield CONTAINER
    finally:
        _podman("rm", "-f", CONTAINER, check=False)


def test_hardening_converges_idempotently_and_passes_its_check(vm: str, tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"{vm} ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3\n"
    )
    playbook = tmp_path / "harden.yml"
    playbook.write_text(PLAYBOOK)
    args = ["-e", f"@{LAB_WAIVERS}"]

    first = run_playbook(
        playbook, inventory, log_file=ARTIFACTS / "hardening-converge-1.log", extra_args=args, quiet=True
    )
    assert first.ok, f"first converge failed, see {first.log_file}"
    second = run_playbook(
        playbook, inventory, log_file=ARTIFACTS / "hardening-converge-2.log", extra_args=args, quiet=True
    )
    assert second.ok, f"second converge failed, see {second.log_file}"
    assert second.total_changed == 0, f"the second converge changed things, see {second.log_file}"

    proc = _podman("exec", vm, "/usr/local/sbin/oson-hardening-check", "--json", check=False)
    check = parse_check_json(proc.stdout)
    failed = {c.id: c.evidence for c in check.with_status("fail")}
    assert not failed, f"controls failed: {json.dumps(failed, indent=1)}"
    assert check.ok and proc.returncode == 0
    lab_waivers = {w["id"] for w in yaml.safe_load(LAB_WAIVERS.read_text())["hardening_waivers"]}
    assert {c.id for c in check.with_status("waived")} == lab_waivers
    assert all(c.reason for c in check.with_status("waived"))

    lynis = _podman("exec", vm, "/usr/local/sbin/oson-lynis", "--report", timeout=600)
    report = parse_lynis_report(lynis.stdout)
    (ARTIFACTS / "hardening-lynis-report.dat").write_text(lynis.stdout)
    _record_figure("hardening: Lynis hardening index (base + hardening, lab container)", report.hardening_index)
    _record_figure("hardening: converge seconds (first, second)", [round(first.seconds), round(second.seconds)])
    assert report.meets_goal(), (
        f"Lynis hardening index {report.hardening_index} < {LYNIS_INDEX_GOAL}; "
        f"suggestions: {[s.test_id for s in report.suggestions]}"
    )
