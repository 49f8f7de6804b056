"""What each hypervisor of the rack carries: bridges, volume groups, and its guests' disks and NICs.

Computed from the topology alone (after `placement.require_valid_placement`), so the hypervisor,
san and guests roles read one plan instead of restating it (they call the `oson_rack_plan` filter).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from appliance.rack.placement import require_valid_placement
from appliance.topology import HostRole, Topology, load_topology

# Guests of this role keep their disks off the SAN (pgBackRest repo2 must survive losing the MSA).
LOCAL_POOL = "oson-local"
LOCAL_POOL_PATH = "/var/lib/libvirt/images/oson"
SEED_DIR = "/var/lib/libvirt/oson-seed"
BOND = "bond0"


class RackPlanError(ValueError):
    """The topology does not describe a rack the physical roles can build."""


def bridge_name(network: str) -> str:
    return f"br-{network}"[:15]


def mac_address(topology: Topology, host: str, network: str) -> str:
    """A stable, locally administered MAC in qemu's 52:54:00 range, the same on every run."""
    digest = hashlib.sha256(f"{topology.name}/{host}/{network}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def _pool_for(topology: Topology, hypervisor: str, use: str) -> str:
    assert topology.san is not None
    for vg in topology.san.volume_groups:
        if vg.hypervisor == hypervisor and vg.use == use:
            return vg.name
    raise RackPlanError(
        f"san.volume_groups: no '{use}' volume group on {hypervisor}; map an MSA volume to it and add "
        f"{{name: ..., hypervisor: {hypervisor}, use: {use}, wwid: ...}}"
    )


def guest_plan(topology: Topology, host: str) -> dict[str, Any]:
    h = topology.hosts[host]
    system_pool = LOCAL_POOL if h.role == HostRole.BACKUP else _pool_for(topology, h.hypervisor, "vms")
    disks: list[dict[str, Any]] = [
        {"name": "system", "pool": system_pool, "volume": f"{host}-system", "size_gb": h.disk_gb, "dev": "vda"}
    ]
    # Created and formatted XFS on the hypervisor by the san role; mounted by label in the guest.
    if h.data_disk_gb:
        disks.append({
            "name": "data", "pool": _pool_for(topology, h.hypervisor, "db"), "volume": f"{host}-data",
            "size_gb": h.data_disk_gb, "dev": "vdb", "label": "osondata", "mount": "/var/lib/postgresql",
        })
    if h.backup_disk_gb:
        disks.append({
            "name": "backup", "pool": _pool_for(topology, h.hypervisor, "backup"), "volume": f"{host}-backup",
            "size_gb": h.backup_disk_gb, "dev": "vdc", "label": "osonbackup", "mount": "/var/lib/pgbackrest",
        })
    default_route = "dmz" if h.role == HostRole.LB else "mgmt"
    nics = []
    for network, address in sorted(h.addresses.items(), key=lambda kv: topology.networks[kv[0]].vlan):
        net = topology.networks[network]
        nics.append({
            "network": network,
            "bridge": bridge_name(network),
            "mac": mac_address(topology, host, network),
            "address": str(address),
            "prefix": net.cidr.prefixlen,
            # One default route: the lb VMs answer clients through the dmz, every other VM uses mgmt;
            # the other networks are on-link only.
            "gateway": str(net.gateway) if net.gateway and network == default_route else "",
        })
    return {
        "name": host,
        "role": str(h.role),
        "fqdn": f"{host}.{topology.domain}",
        "cpus": h.cpus,
        "memory_mb": h.memory_mb,
        "disks": disks,
        "nics": nics,
        "seed": f"{SEED_DIR}/{host}.iso",
    }


def hypervisor_plan(topology: Topology, hypervisor: str) -> dict[str, Any]:
    """The plan of one hypervisor; refuses topologies without a SAN or with a bad placement."""
    if topology.san is None:
        raise RackPlanError(
            f"{topology.name}: the topology has no `san:` section, so it describes no physical rack "
            f"(the lab and Vagrant run their VMs elsewhere); use inventory/production"
        )
    require_valid_placement(topology)
    hv = topology.hypervisor(hypervisor)
    if not hv.uplinks:
        raise RackPlanError(f"hypervisors.{hypervisor}.uplinks: list the NICs bonded to the switches")
    macs = [nic["mac"] for name in topology.hosts for nic in guest_plan(topology, name)["nics"]]
    if len(set(macs)) != len(macs):
        raise RackPlanError(f"{topology.name}: two guest NICs got the same MAC; rename a VM")
    mgmt = topology.networks["mgmt"]
    return {
        "hypervisor": hypervisor,
        "bond": {"name": BOND, "slaves": list(hv.uplinks), "mode": topology.bond.mode, "mtu": topology.bond.mtu},
        "bridges": [
            {"network": name, "name": bridge_name(name), "vlan": net.vlan}
            for name, net in sorted(topology.networks.items(), key=lambda kv: kv[1].vlan)
        ],
        "management": {
            "bridge": bridge_name("mgmt"),
            "address": f"{hv.address}/{mgmt.cidr.prefixlen}" if hv.address else "",
            "gateway": str(mgmt.gateway) if mgmt.gateway else "",
        },
        "san_nics": {nic: str(addr) for nic, addr in sorted(hv.san_nics.items())},
        "volume_groups": [vg.model_dump() for vg in topology.san.volume_groups if vg.hypervisor == hypervisor],
        "local_pool": {"name": LOCAL_POOL, "path": LOCAL_POOL_PATH},
        "guests": [guest_plan(topology, name) for name, h in sorted(topology.hosts.items())
                   if h.hypervisor == hypervisor],
    }


def rack_plan(topology_file: str | Path, hypervisor: str) -> dict[str, Any]:
    return hypervisor_plan(load_topology(topology_file), hypervisor)
