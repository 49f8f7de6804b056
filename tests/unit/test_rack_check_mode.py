"""A check-mode run of playbooks/rack.yml against two stand-in hypervisors: throwaway podman
containers from the lab's base image (fresh Debian 12 with systemd), reached with the podman
connection through the production topology's own inventory plugin. Check mode must succeed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STANDINS = {"dl360-a": "osonrack-hv1", "dl360-b": "osonrack-hv2"}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOsonRackCheckModeTestKeyOnly000000000000000000 test"

PREPARE = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-apt"

pytestmark = pytest.mark.lab  # two containers, an apt update in each and a long check run: minutes


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=600, check=check)


@pytest.fixture(scope="module")
def standins() -> Iterator[dict[str, str]]:
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: apt-get install -y podman runc (see the lab's host setup)")
    image = subprocess.run(
        [sys.executable, "-c", "from appliance.lab import image_name; print(image_name())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if _podman("image", "exists", image, check=False).returncode != 0:
        pytest.fail(f"the lab's base image {image} is missing: build it with the lab's image step first")
    for name in STANDINS.values():
        _podman("rm", "-f", name, check=False)
    try:
        for name in STANDINS.values():
            _podman("run", "-d", "--privileged", "--systemd=always", "--name", name, image, "/sbin/init")
        # A freshly installed Debian has its package lists; check mode's apt needs python3-apt. Both at once.
        preps = [
            subprocess.Popen(["podman", "exec", name, "sh", "-c", PREPARE],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for name in STANDINS.values()
        ]
        for prep in preps:
            _, err = prep.communicate(timeout=600)
            assert prep.returncode == 0, f"preparing a stand-in failed: {err}"
        yield STANDINS
    finally:
        for name in STANDINS.values():
            _podman("rm", "-f", "-t", "0", name, check=False)


def test_rack_playbook_check_mode_succeeds(standins: dict[str, str], tmp_path: Path) -> None:
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    shutil.copy(REPO / "inventory/production/topology.yml", inventory / "topology.yml")
    # Parsed after topology.yml: points the plugin's hypervisors at the containers.
    (inventory / "zz-standins.yml").write_text(json.dumps({
        "all": {"children": {"hypervisors": {"hosts": {
            hv: {"ansible_connection": "containers.podman.podman", "ansible_host": name, "ansible_user": "root"}
            for hv, name in standins.items()
        }}}}
    }))
    extra = {
        "guests_ssh_public_key": KEY,
        # cloud.debian.org is not reachable from these machines; check mode only asks for the URL, so a
        # file on the Debian mirror the stand-ins use stands in for the image (and a checksum for its sums).
        "guests_image_url": "http://deb.debian.org/debian/dists/bookworm/Release",
        "guests_image_checksum": "sha512:" + "0" * 128,
    }
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "playbooks/rack.yml",
         "--check", "-e", f"@{tmp_path / 'extra.json'}"],
        cwd=REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), capture_output=True, text=True, timeout=900, check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    recap = out[out.rindex("PLAY RECAP"):]
    for hv in standins:
        assert f"{hv} " in recap and "failed=0" in recap
    # The plays ran on both stand-ins, in order, and each defined its own guests.
    assert out.index("KVM/libvirt hypervisors") < out.index("HPE MSA 2040") < out.index("each on its placed")
    assert "osondb1" in out and "osondb2" in out
