"""VM placement on the two hypervisors: anti-affinity of the pairs, the single VMs, CPU/RAM fit.

The topology records where each VM runs (`hosts.<vm>.hypervisor`). This module checks that record
against the rack's rules, proposes a placement that satisfies them, and answers what is left when
either hypervisor is lost. The guests role defines each VM on the hypervisor this module accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from appliance.topology import PAIRED_ROLES, HostRole, Topology

# Memory the hypervisor's own Debian, libvirt and qemu overhead keep (MiB), and the share of the
# rest left free so that a VM can be grown or a spare started without a new plan.
DEFAULT_HOST_RESERVE_MB = 8192
DEFAULT_HEADROOM = 0.10


class PlacementError(ValueError):
    """A placement the rack must not run; the message lists every problem and what to change."""


@dataclass(frozen=True)
class HypervisorLoad:
    hypervisor: str
    vms: tuple[str, ...]
    cpus: int
    memory_mb: int
    cpus_available: int  # 0 when the topology does not give the hypervisor's size
    memory_mb_available: int


@dataclass(frozen=True)
class Survivors:
    lost: str
    remaining: dict[HostRole, list[str]]
    etcd_voters: list[str]
    etcd_quorum: bool

    @property
    def one_of_everything(self) -> bool:
        """Every pair (lb, web, app, db) keeps one member."""
        return all(self.remaining.get(role) for role in PAIRED_ROLES)


def placement(topology: Topology) -> dict[str, list[str]]:
    """Hypervisor name -> the VMs placed on it (sorted), every hypervisor present."""
    placed: dict[str, list[str]] = {hv.name: [] for hv in topology.hypervisors}
    for name, host in sorted(topology.hosts.items()):
        placed.setdefault(host.hypervisor, []).append(name)
    return placed


def loads(
    topology: Topology,
    assignment: Mapping[str, str] | None = None,
    *,
    host_reserve_mb: int = DEFAULT_HOST_RESERVE_MB,
    headroom: float = DEFAULT_HEADROOM,
) -> list[HypervisorLoad]:
    """CPU and memory asked of each hypervisor by the VMs on it (assignment: VM -> hypervisor)."""
    assignment = assignment or {n: h.hypervisor for n, h in topology.hosts.items()}
    result = []
    for hv in topology.hypervisors:
        vms = tuple(sorted(n for n, where in assignment.items() if where == hv.name))
        mem_total = hv.memory_gb * 1024
        result.append(
            HypervisorLoad(
                hypervisor=hv.name,
                vms=vms,
                cpus=sum(topology.hosts[v].cpus for v in vms),
                memory_mb=sum(topology.hosts[v].memory_mb for v in vms),
                cpus_available=hv.cpus,
                memory_mb_available=int((mem_total - host_reserve_mb) * (1 - headroom)) if mem_total else 0,
            )
        )
    return result


def check_placement(
    topology: Topology,
    assignment: Mapping[str, str] | None = None,
    *,
    host_reserve_mb: int = DEFAULT_HOST_RESERVE_MB,
    headroom: float = DEFAULT_HEADROOM,
) -> list[str]:
    """Every rule the placement breaks, as messages that say what to change (empty: acceptable)."""
    assignment = dict(assignment or {n: h.hypervisor for n, h in topology.hosts.items()})
    hv_names = [hv.name for hv in topology.hypervisors]
    problems: list[str] = []
    for vm in sorted(topology.hosts):
        if vm not in assignment:
            problems.append(f"{vm}: not placed on any hypervisor; set hosts.{vm}.hypervisor")
        elif assignment[vm] not in hv_names:
            problems.append(
                f"{vm}: placed on unknown hypervisor {assignment[vm]!r}; use one of {', '.join(hv_names)}"
            )
    if problems:
        return problems
    for role in PAIRED_ROLES:
        members = topology.hosts_with_role(role)
        where = sorted({assignment[m] for m in members})
        if len(members) != 2 or len(where) != 2:
            problems.append(
                f"{role} pair ({', '.join(members)}) is on {', '.join(where)}: anti-affinity needs one member "
                f"on each of {', '.join(hv_names)}, or losing that hypervisor takes the whole {role} tier; "
                f"move one of them (hosts.<vm>.hypervisor)"
            )
    witnesses = topology.hosts_with_role(HostRole.WITNESS)
    backups = topology.hosts_with_role(HostRole.BACKUP)
    for witness in witnesses:
        for backup in backups:
            if assignment[witness] == assignment[backup]:
                problems.append(
                    f"{witness} (etcd witness) and {backup} (off-SAN backups) are both on {assignment[witness]}: "
                    f"put them on different hypervisors, so that one loss never costs both etcd quorum "
                    f"and the second backup repository"
                )
    for load in loads(topology, assignment, host_reserve_mb=host_reserve_mb, headroom=headroom):
        if load.cpus_available and load.cpus > load.cpus_available:
            problems.append(
                f"{load.hypervisor}: its VMs ({', '.join(load.vms)}) ask for {load.cpus} vCPUs, "
                f"more than its {load.cpus_available} cores; shrink hosts.<vm>.cpus or move a VM"
            )
        if load.memory_mb_available and load.memory_mb > load.memory_mb_available:
            problems.append(
                f"{load.hypervisor}: its VMs ({', '.join(load.vms)}) ask for {load.memory_mb} MiB of memory, "
                f"more than the {load.memory_mb_available} MiB it can give (after {host_reserve_mb} MiB for "
                f"the host and {headroom:.0%} headroom); shrink hosts.<vm>.memory_mb or move a VM"
            )
    return problems


def require_valid_placement(topology: Topology, assignment: Mapping[str, str] | None = None, **limits: float) -> None:
    problems = check_placement(topology, assignment, **limits)  # type: ignore[arg-type]
    if problems:
        raise PlacementError(
            f"placement of {topology.name} refused:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def propose_placement(topology: Topology) -> dict[str, str]:
    """A placement that satisfies the rules: pair members alternate, the witness and the backup host
    go to different hypervisors (the witness to the one carrying less memory)."""
    first, second = (hv.name for hv in topology.hypervisors)
    assignment: dict[str, str] = {}
    for role in PAIRED_ROLES:
        for member, hv in zip(topology.hosts_with_role(role), (first, second), strict=False):
            assignment[member] = hv
    singles = topology.hosts_with_role(HostRole.WITNESS) + topology.hosts_with_role(HostRole.BACKUP)
    memory = {first: 0, second: 0}
    for vm, hv in assignment.items():
        memory[hv] += topology.hosts[vm].memory_mb
    # Alternate the single VMs, starting on the lighter hypervisor.
    order = sorted((first, second), key=lambda h: (memory[h], h != second))
    for i, vm in enumerate(singles):
        assignment[vm] = order[i % 2]
    for vm in topology.hosts:
        assignment.setdefault(vm, first)
    return assignment


def survivors(topology: Topology, lost: str) -> Survivors:
    """What keeps running when the hypervisor `lost` is gone (its VMs with it)."""
    names = [hv.name for hv in topology.hypervisors]
    if lost not in names:
        raise PlacementError(f"unknown hypervisor {lost!r}: use one of {', '.join(names)}")
    left = {n for n, h in topology.hosts.items() if h.hypervisor != lost}
    remaining = {role: [m for m in topology.hosts_with_role(role) if m in left] for role in HostRole}
    voters_all = topology.group_members("etcd")
    voters = [v for v in voters_all if v in left]
    return Survivors(
        lost=lost,
        remaining=remaining,
        etcd_voters=voters,
        etcd_quorum=len(voters) > len(voters_all) // 2,
    )
