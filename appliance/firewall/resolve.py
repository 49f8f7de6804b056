"""Bind a policy to a topology: endpoints become addresses and zones, and every name is checked.

`resolve_policy` is the one place that knows what `outside`, `control_node`, `<group>.<network>` and
`vip.<name>` mean; the renderers only read the resolved flows.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from appliance.firewall.model import ZONES, Flow, Policy, PolicyError, Service, load_policy
from appliance.paths import PROJECT_ROOT
from appliance.topology import GROUPS, Topology

IPv4 = ipaddress.IPv4Address
# The group that holds the VIPs (keepalived on the load balancers).
VIP_HOLDERS = "lb"


class EndpointKind(StrEnum):
    OUTSIDE = "outside"
    CONTROL_NODE = "control_node"
    HOSTS = "hosts"
    VIP = "vip"


@dataclass(frozen=True)
class Endpoint:
    """One side of a flow, with the addresses it stands for in a given topology."""

    ref: str
    kind: EndpointKind
    zone: str
    network: str | None = None
    # HOSTS: (host, its address on `network`) for every member of the group.
    members: tuple[tuple[str, IPv4], ...] = ()
    # VIP: its name and address; the hosts that may hold it are `holders`.
    vip: str | None = None
    vip_address: IPv4 | None = None
    holders: tuple[str, ...] = ()
    # CONTROL_NODE: the networks it sits in, less the listed addresses (the appliance's own machines),
    # or, in the lab, exactly `exact` (the lab machine's address on every network).
    networks: tuple[ipaddress.IPv4Network, ...] = ()
    exclude: tuple[IPv4, ...] = ()
    exact: tuple[IPv4, ...] = ()

    def address_on(self, host: str) -> IPv4 | None:
        """The address of this endpoint on `host`, when the host is (or may hold) it."""
        if self.kind == EndpointKind.HOSTS:
            return dict(self.members).get(host)
        if self.kind == EndpointKind.VIP and host in self.holders:
            return self.vip_address
        return None

    @property
    def host_names(self) -> tuple[str, ...]:
        if self.kind == EndpointKind.HOSTS:
            return tuple(h for h, _ in self.members)
        return self.holders

    def addresses(self) -> tuple[IPv4, ...]:
        if self.kind == EndpointKind.HOSTS:
            return tuple(a for _, a in self.members)
        if self.kind == EndpointKind.VIP and self.vip_address is not None:
            return (self.vip_address,)
        return self.exact


@dataclass(frozen=True)
class ResolvedFlow:
    flow: Flow
    source: Endpoint
    destination: Endpoint
    services: tuple[tuple[str, Service], ...]

    @property
    def id(self) -> int:
        return self.flow.id

    @property
    def name(self) -> str:
        return self.flow.name


@dataclass(frozen=True)
class ResolvedPolicy:
    policy: Policy
    topology: Topology
    flows: tuple[ResolvedFlow, ...]
    zone_networks: dict[str, str | None] = field(default_factory=dict)

    def flows_to_host(self, host: str) -> list[tuple[ResolvedFlow, IPv4]]:
        """The flows that end on `host` (on one of its addresses or a VIP it may hold)."""
        found = []
        for rf in self.flows:
            address = rf.destination.address_on(host)
            if address is not None:
                found.append((rf, address))
        return found


def _control_node(topology: Topology) -> Endpoint:
    mgmt = topology.networks["mgmt"]
    if topology.environment in ("lab", "vagrant"):
        # The machine running the lab's containers (or Vagrant's VMs) is the control node and sits on
        # every network as its gateway, so it reaches each VM from the gateway of the network it targets.
        exact = tuple(sorted(n.gateway for n in topology.networks.values() if n.gateway is not None))
        return Endpoint("control_node", EndpointKind.CONTROL_NODE, "mgmt", "mgmt", exact=exact)
    known: set[IPv4] = {h.addresses["mgmt"] for h in topology.hosts.values() if "mgmt" in h.addresses}
    for hv in topology.hypervisors:
        known |= {a for a in (hv.address, hv.bmc_address) if a is not None and a in mgmt.cidr}
    if mgmt.gateway is not None:
        known.add(mgmt.gateway)
    return Endpoint(
        "control_node", EndpointKind.CONTROL_NODE, "mgmt", "mgmt", networks=(mgmt.cidr,), exclude=tuple(sorted(known))
    )


def _members(topology: Topology, group: str) -> list[str]:
    return sorted(topology.hosts) if group == "all" else topology.group_members(group)


def resolve_endpoint(ref: str, topology: Topology, zone_of_network: dict[str, str]) -> Endpoint:
    """Turn an endpoint as written in the policy into addresses; ValueError says what is wrong."""
    if ref == "outside":
        return Endpoint(ref, EndpointKind.OUTSIDE, "outside")
    if ref == "control_node":
        endpoint = _control_node(topology)
        return Endpoint(**{**endpoint.__dict__, "zone": zone_of_network.get("mgmt", "mgmt")})
    head, dot, tail = ref.partition(".")
    if not dot or not tail:
        raise ValueError(
            f"{ref!r} is not an endpoint: use outside, control_node, <group>.<network> or vip.<name>"
        )
    if head == "vip":
        if tail not in topology.vips:
            raise ValueError(f"unknown VIP {tail!r}; the topology has: {', '.join(sorted(topology.vips))}")
        vip = topology.vips[tail]
        return Endpoint(
            ref,
            EndpointKind.VIP,
            zone_of_network[vip.network],
            vip.network,
            vip=tail,
            vip_address=vip.address,
            holders=tuple(topology.group_members(VIP_HOLDERS)),
        )
    if head not in (*GROUPS, "all"):
        raise ValueError(f"unknown group {head!r}; use one of: {', '.join((*GROUPS, 'all'))}")
    if tail not in topology.networks:
        raise ValueError(f"unknown network {tail!r}; the topology has: {', '.join(sorted(topology.networks))}")
    hosts = _members(topology, head)
    if not hosts:
        raise ValueError(f"group {head!r} has no hosts in this topology")
    missing = [h for h in hosts if tail not in topology.hosts[h].addresses]
    if missing:
        raise ValueError(f"{', '.join(missing)} of group {head!r} have no address on network {tail!r}")
    members = tuple((h, topology.hosts[h].addresses[tail]) for h in hosts)
    return Endpoint(ref, EndpointKind.HOSTS, zone_of_network[tail], tail, members=members)


def _zone_problems(policy: Policy, topology: Topology) -> list[str]:
    problems = []
    if set(policy.zones) != set(ZONES):
        extra = sorted(set(policy.zones) - set(ZONES))
        missing = sorted(set(ZONES) - set(policy.zones))
        problems.append(f"zones: must be exactly {', '.join(ZONES)} (missing: {missing}, unknown: {extra})")
    for name, zone in policy.zones.items():
        if name == "outside":
            if zone.network is not None:
                problems.append("zones.outside: the outside zone has no network of the topology; remove `network`")
        elif zone.network is None:
            problems.append(f"zones.{name}: needs the network (VLAN) of the topology it stands for")
        elif zone.network not in topology.networks:
            problems.append(
                f"zones.{name}.network: unknown network {zone.network!r}; "
                f"the topology has: {', '.join(sorted(topology.networks))}"
            )
    used = [z.network for z in policy.zones.values() if z.network]
    for net in sorted(set(topology.networks) - set(used)):
        problems.append(f"zones: network {net!r} of the topology is in no zone")
    for net in sorted({n for n in used if used.count(n) > 1}):
        problems.append(f"zones: network {net!r} is in more than one zone")
    return problems


def resolve_policy(policy: Policy, topology: Topology, source: Path | str = "firewall/policy.yml") -> ResolvedPolicy:
    """Check the policy against the topology and resolve every flow; PolicyError lists all problems."""
    problems = _zone_problems(policy, topology)
    zone_of_network = {z.network: name for name, z in policy.zones.items() if z.network}
    flows: list[ResolvedFlow] = []
    seen_ids: dict[int, str] = {}
    seen_names: dict[str, int] = {}
    seen_triples: dict[tuple[str, str, str], int] = {}
    for index, flow in enumerate(policy.flows):
        where = f"flows[{index}] (flow {flow.id} {flow.name})"
        if flow.id in seen_ids:
            problems.append(f"{where}: id {flow.id} is already used by flow {seen_ids[flow.id]}")
        seen_ids.setdefault(flow.id, flow.name)
        if flow.name in seen_names:
            problems.append(f"{where}: name {flow.name!r} is already used by flow {seen_names[flow.name]}")
        seen_names.setdefault(flow.name, flow.id)
        unknown = [s for s in flow.services if s not in policy.services]
        if unknown:
            problems.append(
                f"{where}.services: unknown service(s) {', '.join(unknown)}; "
                f"define them under `services:` (known: {', '.join(sorted(policy.services))})"
            )
        if len(set(flow.services)) != len(flow.services):
            problems.append(f"{where}.services: a service is listed twice")
        ends: list[Endpoint] = []
        for side, ref in (("from", flow.source), ("to", flow.destination)):
            try:
                ends.append(resolve_endpoint(ref, topology, zone_of_network))
            except (ValueError, KeyError) as err:
                problems.append(f"{where}.{side}: {err}")
        if len(ends) != 2:
            continue
        src, dst = ends
        if src.kind == EndpointKind.VIP:
            problems.append(f"{where}.from: a VIP is never the source of a connection; name the hosts instead")
        if dst.kind == EndpointKind.CONTROL_NODE:
            problems.append(f"{where}.to: the control node is not protected by this policy; it can only be a source")
        if src.kind == EndpointKind.OUTSIDE and dst.kind == EndpointKind.OUTSIDE:
            problems.append(f"{where}: a flow from outside to outside does not cross the appliance")
        for service in flow.services:
            key = (flow.source, flow.destination, service)
            if key in seen_triples:
                problems.append(f"{where}: {service} from {flow.source} to {flow.destination} is already "
                                f"allowed by flow {seen_triples[key]}")
            seen_triples.setdefault(key, flow.id)
        if not unknown:
            services = tuple((s, policy.services[s]) for s in flow.services)
            flows.append(ResolvedFlow(flow, src, dst, services))
    if problems:
        raise PolicyError(f"{source}: the firewall policy does not fit topology {topology.name!r}:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    zones = {name: z.network for name, z in policy.zones.items()}
    return ResolvedPolicy(policy, topology, tuple(flows), zones)


def load_resolved(topology: Topology, policy_file: Path | None = None) -> ResolvedPolicy:
    path = policy_file or PROJECT_ROOT / "firewall" / "policy.yml"
    return resolve_policy(load_policy(path), topology, path)
