"""The Vagrantfile: `vagrant validate` passes, and its machines are exactly the vagrant topology's."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.topology import ROLE_GROUPS, load_topology

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("vagrant") is None,
    reason="vagrant is not installed (apt-get install -y vagrant vagrant-libvirt); the Vagrantfile is not checked",
)


def _validate(tmp_path: Path, vagrantfile_dir: Path = REPO) -> tuple[subprocess.CompletedProcess[str], Path]:
    model = tmp_path / "model.json"
    env = dict(
        os.environ,
        OSON_VAGRANT_MODEL=str(model),
        VAGRANT_DOTFILE_PATH=str(tmp_path / "dot"),  # no .vagrant/ left in the repository
        VAGRANT_CHECKPOINT_DISABLE="1",
    )
    result = subprocess.run(
        ["vagrant", "validate"], cwd=vagrantfile_dir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return result, model


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict:
    result, path = _validate(tmp_path_factory.mktemp("vagrant"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout
    return json.loads(path.read_text())


def test_machines_are_the_topology_hosts(model: dict) -> None:
    topology = load_topology(REPO / "inventory" / "vagrant")
    assert model["topology"] == topology.name
    machines = {m["name"]: m for m in model["machines"]}
    assert set(machines) == set(topology.hosts)
    for name, host in topology.hosts.items():
        m = machines[name]
        assert (m["role"], m["hypervisor"]) == (str(host.role), host.hypervisor)
        assert (m["cpus"], m["memory_mb"], m["disk_gb"]) == (host.cpus, host.memory_mb, host.disk_gb)
        assert m["groups"] == list(ROLE_GROUPS[host.role])
        nets = {n["network"]: n for n in m["networks"]}
        assert {k: n["ip"] for k, n in nets.items()} == {k: str(a) for k, a in host.addresses.items()}
        for net_name, n in nets.items():
            assert n["netmask"] == str(topology.networks[net_name].cidr.netmask)
            assert n["resource"] == topology.network_resource_name(net_name)


def test_groups_match_the_topology(model: dict) -> None:
    topology = load_topology(REPO / "inventory" / "vagrant")
    groups: dict[str, list[str]] = {}
    for m in model["machines"]:
        for g in m["groups"]:
            groups.setdefault(g, []).append(m["name"])
    assert {g: sorted(v) for g, v in groups.items()} == {g: v for g, v in topology.groups().items() if v}


def test_fits_a_32_gb_workstation(model: dict) -> None:
    total_mb = sum(m["memory_mb"] for m in model["machines"])
    # Leave the workstation itself at least 8 GB.
    assert total_mb <= 24 * 1024, f"the VMs ask for {total_mb} MiB"
    for m in model["machines"]:
        for n in m["networks"]:
            ipaddress.IPv4Address(n["ip"])


def test_a_changed_topology_changes_the_model(tmp_path: Path) -> None:
    """The Vagrantfile reads the topology at load time: edit it and the machines follow."""
    work = tmp_path / "repo"
    (work / "inventory" / "vagrant").mkdir(parents=True)
    shutil.copy(REPO / "Vagrantfile", work / "Vagrantfile")
    text = (REPO / "inventory" / "vagrant" / "topology.yml").read_text()
    changed = text.replace("memory_mb: 3072", "memory_mb: 2560", 1)
    assert changed != text
    (work / "inventory" / "vagrant" / "topology.yml").write_text(changed)
    result, path = _validate(tmp_path, work)
    assert result.returncode == 0, result.stdout + result.stderr
    sizes = sorted(m["memory_mb"] for m in json.loads(path.read_text())["machines"] if m["role"] == "db")
    assert sizes == [2560, 3072]


def test_a_broken_vagrantfile_fails_validation(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(REPO / "inventory" / "vagrant", work / "inventory" / "vagrant")
    broken = (REPO / "Vagrantfile").read_text().replace('lv.cpus = machine["cpus"]', 'lv.cpuz = machine["cpus"]')
    (work / "Vagrantfile").write_text(broken)
    result, _ = _validate(tmp_path, work)
    assert result.returncode != 0
