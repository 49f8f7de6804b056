"""The rack roles' templates, rendered through Ansible for the production inventory and checked by the
real tools: ifupdown2's parser (the hypervisor's bond and VLAN bridges), multipath (the MSA 2040
configuration), virt-xml-validate (each guest's domain XML against libvirt's schema). Broken files are
shown to be rejected by the same checks. Nothing is configured on this machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from appliance.topology import load_topology

REPO = Path(__file__).resolve().parents[2]
IFUPDOWN2_VALIDATE = REPO / "roles/hypervisor/files/oson-ifupdown2-validate"
MULTIPATH_VALIDATE = REPO / "roles/san/files/oson-multipath-validate"
TOOLS = {
    "ifup": "ifupdown2",
    "multipath": "multipath-tools",
    "virt-xml-validate": "libvirt-clients",
    "xmllint": "libxml2-utils",
    "unshare": "util-linux",
}
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOsonRackRenderTestKeyOnly0000000000000000000 test"

PLAYBOOK = """
- name: Render the rack templates of every hypervisor
  hosts: hypervisors
  gather_facts: false
  vars_files:
    - {repo}/roles/hypervisor/defaults/main.yml
    - {repo}/roles/san/defaults/main.yml
    - {repo}/roles/guests/defaults/main.yml
  tasks:
    - name: Output directory
      ansible.builtin.file:
        path: "{{{{ render_dir }}}}/{{{{ inventory_hostname }}}}"
        state: directory
        mode: "0755"
    - name: interfaces
      ansible.builtin.template:
        src: {repo}/roles/hypervisor/templates/interfaces.j2
        dest: "{{{{ render_dir }}}}/{{{{ inventory_hostname }}}}/interfaces"
        mode: "0644"
    - name: interfaces with an active-backup bond
      ansible.builtin.template:
        src: {repo}/roles/hypervisor/templates/interfaces.j2
        dest: "{{{{ render_dir }}}}/{{{{ inventory_hostname }}}}/interfaces-active-backup"
        mode: "0644"
      vars:
        hypervisor_bond_mode: active-backup
    - name: multipath.conf
      ansible.builtin.template:
        src: {repo}/roles/san/templates/multipath.conf.j2
        dest: "{{{{ render_dir }}}}/{{{{ inventory_hostname }}}}/multipath.conf"
        mode: "0644"
    - name: Guest files
      ansible.builtin.template:
        src: "{repo}/roles/guests/templates/{{{{ item.1 }}}}.j2"
        dest: "{{{{ render_dir }}}}/{{{{ inventory_hostname }}}}/{{{{ item.0.name }}}}.{{{{ item.1 }}}}"
        mode: "0644"
      loop: "{{{{ guests_plan | product(['domain.xml', 'user-data', 'network-config', 'meta-data']) | list }}}}"
      vars:
        guest: "{{{{ item.0 }}}}"
"""


def _render(tmp_path: Path, extra: dict[str, object] | None = None) -> Path:
    missing = [f"{tool} ({pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: apt-get install -y {' '.join(sorted(set(TOOLS.values())))}")
    playbook = tmp_path / "render.yml"
    playbook.write_text(PLAYBOOK.format(repo=REPO))
    out = tmp_path / "out"
    variables = {
        "render_dir": str(out),
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "guests_ssh_public_key": KEY,
        **(extra or {}),
    }
    (tmp_path / "extra.json").write_text(json.dumps(variables))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(REPO / "inventory/production/topology.yml"),
         str(playbook), "-e", f"@{tmp_path / 'extra.json'}"],
        cwd=REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


def _run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _render(tmp_path_factory.mktemp("rack"))


@pytest.fixture(scope="module")
def topology():  # type: ignore[no-untyped-def]
    return load_topology(REPO / "inventory/production")


def test_network_files_pass_ifupdown2(rendered: Path, topology) -> None:  # type: ignore[no-untyped-def]
    for hv in topology.hypervisors:
        path = rendered / hv.name / "interfaces"
        result = _run(IFUPDOWN2_VALIDATE, path)
        assert result.returncode == 0, result.stderr
        text = path.read_text()
        assert "bond-mode 802.3ad" in text and f"bond-slaves {' '.join(hv.uplinks)}" in text
        for name, net in topology.networks.items():
            assert f"iface bond0.{net.vlan}" in text and f"iface br-{name}" in text
        assert f"address {hv.address}/24" in text


def test_active_backup_bond_passes_ifupdown2(rendered: Path) -> None:
    path = rendered / "dl360-a" / "interfaces-active-backup"
    text = path.read_text()
    assert "bond-mode active-backup" in text and "bond-primary ens1f0" in text and "lacp" not in text
    assert _run(IFUPDOWN2_VALIDATE, path).returncode == 0


def test_broken_network_file_is_rejected(rendered: Path, tmp_path: Path) -> None:
    bad = tmp_path / "interfaces"
    bad.write_text((rendered / "dl360-a" / "interfaces").read_text().replace("bond-miimon", "bond-miimonn"))
    result = _run(IFUPDOWN2_VALIDATE, bad)
    assert result.returncode != 0 and "bond-miimonn" in result.stderr


def test_multipath_conf_passes_multipath(rendered: Path, topology) -> None:  # type: ignore[no-untyped-def]
    for hv in topology.hypervisors:
        path = rendered / hv.name / "multipath.conf"
        result = _run(MULTIPATH_VALIDATE, path)
        assert result.returncode == 0, result.stderr
        text = path.read_text()
        for setting in ('product "MSA 2040 SAN"', "path_grouping_policy group_by_prio", "prio alua",
                        "failback immediate", "no_path_retry 12"):
            assert setting in text
        own = [vg for vg in topology.san.volume_groups if vg.hypervisor == hv.name]
        assert text.count("wwid ") == len(own)
        for vg in own:
            assert f"wwid {vg.wwid}" in text and f"alias msa-{vg.name}" in text


def test_broken_multipath_conf_is_rejected(rendered: Path, tmp_path: Path) -> None:
    text = (rendered / "dl360-a" / "multipath.conf").read_text()
    for broken, word in (
        (text.replace("group_by_prio", "grouop_by_prio"), "grouop_by_prio"),
        (text.replace("failback immediate", "failbak immediate"), "failbak"),
    ):
        bad = tmp_path / "multipath.conf"
        bad.write_text(broken)
        result = _run(MULTIPATH_VALIDATE, bad)
        assert result.returncode != 0 and word in result.stderr


def test_domain_xml_passes_libvirt_schema(rendered: Path, topology) -> None:  # type: ignore[no-untyped-def]
    for name, host in topology.hosts.items():
        path = rendered / host.hypervisor / f"{name}.domain.xml"
        result = _run("virt-xml-validate", path, "domain")
        assert result.returncode == 0, result.stdout + result.stderr
        text = path.read_text()
        assert f"<memory unit='MiB'>{host.memory_mb}</memory>" in text
        assert f"<vcpu placement='static'>{host.cpus}</vcpu>" in text
        assert text.count("<interface type='bridge'>") == len(host.addresses)
        assert "cache='none'" in text and "<watchdog model='i6300esb'" in text
        if host.role == "backup":
            assert "/var/lib/libvirt/images/oson/" in text and "/dev/vg_" not in text
        else:
            assert f"/dev/vg_vms_{host.hypervisor[-1]}/{name}-system" in text


def test_broken_domain_xml_is_rejected(rendered: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    text = (rendered / "dl360-a" / "osondb1.domain.xml").read_text()
    bad.write_text(text.replace("<vcpu placement", "<vcpus placement").replace("</vcpu>", "</vcpus>"))
    assert _run("virt-xml-validate", bad, "domain").returncode != 0


def test_cloud_init_seed_has_the_addresses_and_key(rendered: Path, topology) -> None:  # type: ignore[no-untyped-def]
    for name, host in topology.hosts.items():
        base = rendered / host.hypervisor / name
        user = (base.parent / f"{name}.user-data").read_text()
        assert user.startswith("#cloud-config\n")
        user_data = yaml.safe_load(user)
        assert user_data["users"][0]["name"] == topology.ssh_user
        assert user_data["users"][0]["ssh_authorized_keys"] == [KEY]
        network = yaml.safe_load((base.parent / f"{name}.network-config").read_text())
        addresses = {nic: cfg["addresses"][0] for nic, cfg in network["ethernets"].items()}
        assert addresses == {net: f"{addr}/24" for net, addr in host.addresses.items()}
        routes = [cfg for cfg in network["ethernets"].values() if "routes" in cfg]
        assert len(routes) == 1, "exactly one default route"
        if host.data_disk_gb:
            mounts = {m[1]: m for m in user_data["mounts"]}
            assert set(mounts) == {"/var/lib/postgresql", "/var/lib/pgbackrest"}
            assert all(m[2] == "xfs" and "nobarrier" not in m[3] for m in mounts.values())
