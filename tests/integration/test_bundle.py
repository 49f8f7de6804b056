"""The offline bundle, built for the lab inventory, installs without any network.

Builds the bundle (a few minutes: the packages are downloaded once; the offline lab of the lab tests
installs from the same archive, see test_lab_offline.py), then in throwaway containers of
the VMs' base image started with `--network none`: apt installs some of the roles' packages from the
bundle's repository and pip installs the operator wheel from its wheelhouse; and the base and operator
roles themselves, with `oson_package_source: bundle`, point apt at the bundle only and install the
service's venv, twice (the second run changes nothing).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_support import apt_repository

from appliance.bundle import RACK_PLAYBOOK, build_for
from appliance.bundle.build import BundleResult, requested_packages, tar_contents
from appliance.bundle.manifest import verify
from appliance.lab import image_name
from appliance.topology import load_topology

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unpacked(lab_bundle: BundleResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(lab_bundle.archive) as tar:
        tar.extractall(where, filter="data")
    repo = where / "apt"
    repo.mkdir()
    with tarfile.open(where / "oson-bundle/apt.tar") as tar:
        tar.extractall(repo, filter="data")
    yield where
    shutil.rmtree(where, ignore_errors=True)


def _podman(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_every_file_matches_the_manifest(lab_bundle: BundleResult, unpacked: Path) -> None:
    root = unpacked / "oson-bundle"
    assert verify(root) == []
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["contents"]["apt.tar"] == tar_contents(root / "apt.tar")
    packages = json.loads((root / "packages.json").read_text())
    # Every package a role asks for is in the repository, unless the VMs' base image already has it;
    # the repository also holds the dependencies the base image lacks.
    image_has = _podman("run", "--rm", "--network", "none", image_name(), "dpkg-query", "-W", "-f", "${Package}\\n")
    assert image_has.returncode == 0, image_has.stderr
    missing = set(packages["requested"]) - set(packages["repository"]) - set(image_has.stdout.split())
    assert missing == set() and len(packages["repository"]) > len(packages["requested"])


def test_packages_and_the_operator_wheel_install_without_network(unpacked: Path) -> None:
    script = """set -e
echo 'deb [trusted=yes] file:/b/apt ./' > /etc/apt/sources.list.d/bundle.list
rm -f /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy python3-venv
haproxy -v | head -1
mkdir /w && tar -xf /b/oson-bundle/wheelhouse.tar -C /w
python3 -m venv /v && /v/bin/pip install -q --no-index --find-links /w /w/oson_operator-*.whl
/v/bin/oson-operator --help | head -1
"""
    proc = _podman("run", "--rm", "--network", "none", "-v", f"{unpacked}:/b:ro", image_name(), "/bin/sh", "-c",
                   script)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "HAProxy version 2.6" in proc.stdout and "usage: oson-operator" in proc.stdout


@pytest.fixture
def offline_vm() -> Iterator[str]:
    name = f"oson-bundle-test-{secrets.token_hex(4)}"
    proc = _podman("run", "-d", "--rm", "--network", "none", "--name", name, image_name(), "sleep", "3600")
    assert proc.returncode == 0, proc.stderr
    try:
        yield name
    finally:
        _podman("rm", "-f", "-t", "0", name)


def _converge(vm: str, bundle: Path, work: Path) -> subprocess.CompletedProcess[str]:
    (work / "hosts.ini").write_text(f"{vm} ansible_connection=containers.podman.podman "
                                    "ansible_python_interpreter=/usr/bin/python3\n")
    (work / "play.yml").write_text(f"""
- name: Offline VM from the bundle
  hosts: all
  gather_facts: false
  vars:
    oson_package_source: bundle
    oson_bundle_file: {bundle}
    operator_build_dir: {work}/wheelhouse
    # No systemd in this container: only the venv, as on the backup host.
    operator_service_enabled: false
  tasks:
    - name: Package source
      ansible.builtin.include_role:
        name: base
        tasks_from: package_source
    - name: A package from the bundle
      ansible.builtin.apt:
        name: [haproxy]
        cache_valid_time: 3600
    - name: The operator's venv from the bundle's wheels
      ansible.builtin.include_role:
        name: operator
        tasks_from: install
""")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(ROOT / "roles"),
               ANSIBLE_INVENTORY_ENABLED="ansible.builtin.ini", ANSIBLE_NOCOLOR="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "hosts.ini"),
                           str(work / "play.yml")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200, check=False)


def test_the_roles_install_from_the_bundle_offline_and_idempotently(
        lab_bundle: BundleResult, offline_vm: str, tmp_path: Path) -> None:
    first = _converge(offline_vm, lab_bundle.archive, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:]
    second = _converge(offline_vm, lab_bundle.archive, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    assert "changed=0" in second.stdout.split("PLAY RECAP")[-1], second.stdout[-4000:]
    sources = _podman("exec", offline_vm, "apt-get", "indextargets", "--format", "$(URI)")
    assert sources.returncode == 0 and sources.stdout.strip()
    assert all(uri.startswith("file:/var/lib/oson/bundle/apt-") for uri in sources.stdout.split()), sources.stdout
    health = _podman("exec", offline_vm, "/opt/oson/operator/venv/bin/oson-operator", "--help")
    assert health.returncode == 0 and "oson-operator" in health.stdout


def test_a_rack_bundle_installs_the_hypervisors_packages_offline(tmp_path: Path) -> None:
    """The production inventory's bundle (site.yml and rack.yml): in a container with no network, apt
    installs every package the hypervisor and san roles ask for (with their recommends, as the roles do),
    from the bundle's repository only."""
    topology = load_topology(ROOT / "inventory" / "production")
    archive = tmp_path / f"oson-bundle-{topology.name}.tar"
    result = build_for(topology, archive)  # its playbooks: site.yml and, for a san section, rack.yml
    rack = requested_packages([RACK_PLAYBOOK])
    wanted = sorted(set(rack["hypervisor"]) | set(rack["san"]))
    assert set(wanted) <= set(result.packages_in_repo)
    repo = tmp_path / "apt"
    repo.mkdir()
    with apt_repository(archive) as apt:
        apt.extractall(repo, filter="data")
    archive.unlink()  # a few hundred MB; the repository is all the container needs
    script = f"""set -e
echo 'deb [trusted=yes] file:/r ./' > /etc/apt/sources.list.d/bundle.list
rm -f /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q {' '.join(wanted)}
dpkg-query -W -f 'installed: ${{Package}} ${{db:Status-Abbrev}}\\n' {' '.join(wanted)}
virsh --version && qemu-img --version | head -1 && multipath -h 2>&1 | head -1 && mkfs.xfs -V
"""
    proc = _podman("run", "--rm", "--network", "none", "-v", f"{repo}:/r:ro", image_name(), "/bin/sh", "-c", script)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    installed = dict(line.split()[1:3] for line in proc.stdout.splitlines() if line.startswith("installed: "))
    assert installed == dict.fromkeys(wanted, "ii")
    for version_line in ("qemu-img version 7", "multipath-tools v0", "mkfs.xfs version"):
        assert version_line in proc.stdout
