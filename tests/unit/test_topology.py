"""The topology model: the three inventories load, agree on groups, and bad files name the bad field."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from appliance.topology import GROUPS, HostRole, TopologyError, load_topology, parse_topology

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("production", "vagrant", "lab")


def _lab_data() -> dict:
    return yaml.safe_load((ROOT / "inventory/lab/topology.yml").read_text())


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inventories_load(env: str) -> None:
    topology = load_topology(ROOT / "inventory" / env)
    assert topology.environment == env
    assert set(topology.groups()) == set(GROUPS)


def test_inventories_have_same_hosts_and_groups() -> None:
    groups = {env: load_topology(ROOT / "inventory" / env).groups() for env in ENVIRONMENTS}
    assert groups["production"] == groups["vagrant"] == groups["lab"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_pair_is_split_across_hypervisors(env: str) -> None:
    topology = load_topology(ROOT / "inventory" / env)
    for role in (HostRole.LB, HostRole.WEB, HostRole.APP, HostRole.DB):
        members = topology.hosts_with_role(role)
        assert len(members) == 2
        assert len({topology.hosts[m].hypervisor for m in members}) == 2
    assert len(topology.group_members("etcd")) == 3


def test_production_meets_section_14_2() -> None:
    topology = load_topology(ROOT / "inventory/production")
    for hv in topology.hypervisors:
        assert hv.cpus >= 40 and hv.memory_gb >= 128
    for hv in topology.hypervisors:
        placed = [h for h in topology.hosts.values() if h.hypervisor == hv.name]
        # Each hypervisor can carry what is placed on it, with room to take over nothing more.
        assert sum(h.cpus for h in placed) <= hv.cpus
        assert sum(h.memory_mb for h in placed) <= hv.memory_gb * 1024


def _error_for(mutate) -> str:  # type: ignore[no-untyped-def]
    data = copy.deepcopy(_lab_data())
    mutate(data)
    with pytest.raises(TopologyError) as err:
        parse_topology(data, "bad.yml")
    return str(err.value)


def test_pair_on_one_hypervisor_is_refused() -> None:
    msg = _error_for(lambda d: d["hosts"]["oson2"].update(hypervisor="hv1"))
    assert "app pair (oson1, oson2) must be split" in msg


def test_unknown_hypervisor_names_the_field() -> None:
    msg = _error_for(lambda d: d["hosts"]["osondb1"].update(hypervisor="hv9"))
    assert "hosts.osondb1.hypervisor: unknown hypervisor 'hv9'" in msg


def test_address_outside_network_names_the_field() -> None:
    msg = _error_for(lambda d: d["hosts"]["osonweb1"]["addresses"].update(web="10.99.0.5"))
    assert "hosts.osonweb1.addresses.web: 10.99.0.5 is not a host address of 10.77.30.0/24" in msg


def test_duplicate_address_is_refused() -> None:
    msg = _error_for(lambda d: d["hosts"]["osonweb2"]["addresses"].update(web="10.77.30.21"))
    assert "already used by hosts.osonweb1.addresses.web" in msg


def test_missing_network_for_role() -> None:
    msg = _error_for(lambda d: d["hosts"]["osonlb1"]["addresses"].pop("db"))
    assert "hosts.osonlb1.addresses: role lb needs an address on db" in msg


def test_vip_colliding_with_host() -> None:
    msg = _error_for(lambda d: d["vips"]["public"].update(address="10.77.20.11"))
    assert "10.77.20.11 is already used by vips.public" in msg


def test_even_etcd_voters_refused() -> None:
    msg = _error_for(lambda d: d["hosts"].pop("osonwitness"))
    assert "etcd needs an odd number" in msg


def test_unknown_field_and_bad_types_are_named() -> None:
    msg = _error_for(lambda d: d["hosts"]["oson1"].update(cpu=4))
    assert "hosts.oson1.cpu: Extra inputs are not permitted" in msg
    msg = _error_for(lambda d: d["networks"]["db"].update(vlan="fifty"))
    assert "networks.db.vlan" in msg


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="no such topology file"):
        load_topology(tmp_path)
    (tmp_path / "topology.yml").write_text("hosts: [unclosed\n")
    with pytest.raises(TopologyError, match="not valid YAML"):
        load_topology(tmp_path)


def test_inventory_plugin_exposes_topology() -> None:
    """The real ansible-inventory reads topology.yml through the plugin (no vault needed for --list)."""
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-inventory"), "-i", "inventory/vagrant/topology.yml", "--list", "--yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    inv = yaml.safe_load(proc.stdout)["all"]["children"]["oson"]["children"]
    assert sorted(inv["etcd"]["hosts"]) == ["osondb1", "osondb2", "osonwitness"]
    hostvars = inv["lb"]["hosts"]["osonlb1"]
    assert hostvars["ansible_host"] == "192.168.110.11"
    assert hostvars["oson_vips"]["public"]["address"] == "192.168.120.100"
    assert hostvars["oson_addresses"]["db"] == "192.168.150.11"


def test_inventory_plugin_reports_bad_topology(tmp_path: Path) -> None:
    data = _lab_data()
    data["hosts"]["oson2"]["hypervisor"] = "hv1"
    bad = tmp_path / "topology.yml"
    bad.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-inventory"), "-i", str(bad), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "must be split across the two hypervisors" in proc.stderr
