"""VM placement on the two hypervisors: anti-affinity, single VMs apart, fit, and losing either hypervisor."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.rack.placement import (
    PlacementError,
    check_placement,
    loads,
    propose_placement,
    require_valid_placement,
    survivors,
)
from appliance.rack.plan import RackPlanError, hypervisor_plan
from appliance.topology import PAIRED_ROLES, HostRole, Topology, load_topology

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def production() -> Topology:
    return load_topology(REPO / "inventory" / "production")


def _moved(topology: Topology, **where: str) -> Topology:
    """The topology with some VMs moved, bypassing the model's own checks (as a hand edit would be read)."""
    hosts = {n: (h.model_copy(update={"hypervisor": where[n]}) if n in where else h) for n, h in topology.hosts.items()}
    return topology.model_copy(update={"hosts": hosts})


def _resized(topology: Topology, name: str, **sizes: int) -> Topology:
    hosts = dict(topology.hosts)
    hosts[name] = hosts[name].model_copy(update=sizes)
    return topology.model_copy(update={"hosts": hosts})


@pytest.mark.parametrize("env", ["production", "vagrant", "lab"])
def test_shipped_placements_are_accepted(env: str) -> None:
    topology = load_topology(REPO / "inventory" / env)
    assert check_placement(topology) == []


@pytest.mark.parametrize("lost", ["dl360-a", "dl360-b"])
def test_losing_either_hypervisor_leaves_one_of_every_pair(production: Topology, lost: str) -> None:
    left = survivors(production, lost)
    assert left.one_of_everything
    other = next(hv.name for hv in production.hypervisors if hv.name != lost)
    for role in PAIRED_ROLES:
        assert len(left.remaining[role]) == 1
        assert production.hosts[left.remaining[role][0]].hypervisor == other
    # Nothing placed on the lost hypervisor survives.
    assert all(production.hosts[vm].hypervisor != lost for vms in left.remaining.values() for vm in vms)


def test_etcd_quorum_depends_on_where_the_witness_is(production: Topology) -> None:
    witness_hv = production.hosts["osonwitness"].hypervisor
    other = next(hv.name for hv in production.hypervisors if hv.name != witness_hv)
    without_witness = survivors(production, witness_hv)
    assert not without_witness.etcd_quorum and len(without_witness.etcd_voters) == 1
    keeps_witness = survivors(production, other)
    assert keeps_witness.etcd_quorum and "osonwitness" in keeps_witness.etcd_voters
    # The off-SAN backups live on the other side from the witness: one loss never costs both.
    assert survivors(production, witness_hv).remaining[HostRole.BACKUP] == ["osonbackup"]


def test_unknown_hypervisor_is_refused(production: Topology) -> None:
    with pytest.raises(PlacementError, match="unknown hypervisor 'dl360-c': use one of dl360-a, dl360-b"):
        survivors(production, "dl360-c")


def test_pair_on_one_hypervisor_is_refused_with_what_to_do(production: Topology) -> None:
    bad = _moved(production, osondb2="dl360-a")
    problems = check_placement(bad)
    assert any("db pair (osondb1, osondb2) is on dl360-a" in p and "move one of them" in p for p in problems)
    with pytest.raises(PlacementError, match="placement of osonprod refused"):
        require_valid_placement(bad)
    # ...and losing that hypervisor would have taken the whole tier.
    assert not survivors(bad, "dl360-a").one_of_everything


def test_witness_and_backup_together_are_refused(production: Topology) -> None:
    bad = _moved(production, osonwitness="dl360-a")
    (problem,) = check_placement(bad)
    assert "osonwitness (etcd witness) and osonbackup (off-SAN backups) are both on dl360-a" in problem


def test_memory_overcommit_is_refused(production: Topology) -> None:
    bad = _resized(production, "osondb1", memory_mb=96 * 1024)
    (problem,) = check_placement(bad)
    assert problem.startswith("dl360-a: its VMs")
    assert "more than the 110592 MiB it can give" in problem and "shrink hosts.<vm>.memory_mb" in problem
    # 96+16+8+4+4 GB is exactly the 128 GB: only the host's reserve and the headroom refuse it.
    assert check_placement(bad, headroom=0.0, host_reserve_mb=0) == []
    assert check_placement(_resized(production, "osondb1", memory_mb=64 * 1024)) == []


def test_cpu_overcommit_is_refused(production: Topology) -> None:
    bad = _resized(production, "oson2", cpus=32)
    (problem,) = check_placement(bad)
    assert "dl360-b" in problem and "48 vCPUs, more than its 40 cores" in problem


def test_loads_sum_what_is_placed(production: Topology) -> None:
    by_hv = {load.hypervisor: load for load in loads(production)}
    for hv in production.hypervisors:
        placed = [h for h in production.hosts.values() if h.hypervisor == hv.name]
        assert by_hv[hv.name].memory_mb == sum(h.memory_mb for h in placed)
        assert by_hv[hv.name].cpus == sum(h.cpus for h in placed)


@pytest.mark.parametrize("env", ["production", "vagrant", "lab"])
def test_proposed_placement_passes_the_checks(env: str) -> None:
    topology = load_topology(REPO / "inventory" / env)
    proposal = propose_placement(topology)
    assert set(proposal) == set(topology.hosts)
    assert check_placement(topology, proposal) == []
    # A scrambled placement is repaired by the proposal.
    scrambled = _moved(topology, **{n: topology.hypervisors[0].name for n in topology.hosts})
    assert check_placement(scrambled) != []
    assert check_placement(scrambled, propose_placement(scrambled)) == []


def test_rack_plan_puts_each_guest_on_its_hypervisor(production: Topology) -> None:
    plans = {hv.name: hypervisor_plan(production, hv.name) for hv in production.hypervisors}
    placed = {g["name"]: hv for hv, plan in plans.items() for g in plan["guests"]}
    assert placed == {n: h.hypervisor for n, h in production.hosts.items()}
    macs = [nic["mac"] for plan in plans.values() for g in plan["guests"] for nic in g["nics"]]
    assert len(macs) == len(set(macs))
    for hv, plan in plans.items():
        own_vgs = {vg["name"] for vg in plan["volume_groups"]}
        for guest in plan["guests"]:
            for disk in guest["disks"]:
                # Disks only on this hypervisor's own LUNs, or its local pool for the backup host.
                assert disk["pool"] in own_vgs | {plan["local_pool"]["name"]}, (hv, guest["name"], disk)
            if guest["role"] == "backup":
                assert guest["disks"][0]["pool"] == plan["local_pool"]["name"]


def test_rack_plan_refuses_a_topology_without_a_san() -> None:
    with pytest.raises(RackPlanError, match="no `san:` section"):
        hypervisor_plan(load_topology(REPO / "inventory" / "lab"), "hv1")


def test_rack_plan_refuses_a_bad_placement(production: Topology) -> None:
    with pytest.raises(PlacementError, match="lb pair"):
        hypervisor_plan(_moved(production, osonlb1="dl360-b"), "dl360-a")
