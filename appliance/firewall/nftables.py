"""nftables rulesets rendered from the policy: one per VM (inbound default deny).

A VM's ruleset lets in only the flows that end on it: on one of its own addresses, or on a VIP it may
hold (both load balancers carry the VIP rules, since keepalived moves the VIPs between them). Outbound
is left open on the VMs: every internal flow ends on another appliance VM whose inbound rules decide,
and what leaves the appliance's networks is the FortiGate's to filter.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from appliance.firewall.model import Protocol, Service
from appliance.firewall.resolve import Endpoint, EndpointKind, ResolvedFlow, ResolvedPolicy

HOST_TABLE = "oson_host"
IPv4 = ipaddress.IPv4Address


def nft_set(items: Iterable[object]) -> str:
    values = [str(i) for i in items]
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"


def source_match(endpoint: Endpoint) -> str:
    """The nft expression that matches connections from `endpoint` ("" for any source)."""
    if endpoint.kind == EndpointKind.OUTSIDE:
        return ""
    if endpoint.kind == EndpointKind.CONTROL_NODE and endpoint.networks:
        text = f"ip saddr {nft_set(endpoint.networks)}"
        return text + (f" ip saddr != {nft_set(endpoint.exclude)}" if endpoint.exclude else "")
    addresses = endpoint.addresses()
    if not addresses:
        raise ValueError(f"endpoint {endpoint.ref} has no address to match")
    return f"ip saddr {nft_set(sorted(set(addresses)))}"


def service_match(service: Service) -> str:
    ports = nft_set(service.ports)
    match service.protocol:
        case Protocol.TCP:
            return f"tcp dport {ports}"
        case Protocol.UDP:
            return f"udp dport {ports}"
        case Protocol.TCP_UDP:
            return f"meta l4proto {{ tcp, udp }} th dport {ports}"
        case Protocol.ICMP:
            return "icmp type echo-request"
        case Protocol.VRRP:
            return "ip protocol vrrp"
    raise ValueError(f"no nftables match for protocol {service.protocol}")


def flow_rules(rf: ResolvedFlow, destination: str) -> list[str]:
    """One accept rule per service of a flow, for traffic to `destination` (nft expression)."""
    src = source_match(rf.source)
    rules = []
    for name, service in rf.services:
        parts = [p for p in (src, destination, service_match(service)) if p]
        rules.append(f'{" ".join(parts)} accept comment "flow {rf.id} {rf.name}: {name}"')
    return rules


def render_host_ruleset(resolved: ResolvedPolicy, host: str) -> str:
    topology = resolved.topology
    if host not in topology.hosts:
        raise ValueError(f"unknown host {host!r}; the topology has: {', '.join(sorted(topology.hosts))}")
    rules: list[str] = []
    for rf, address in resolved.flows_to_host(host):
        rules += flow_rules(rf, f"ip daddr {address}")
    body = "\n".join(f"        {r}" for r in rules) or "        # no flow of the policy ends on this host"
    return f"""#!/usr/sbin/nft -f
# {host} ({topology.hosts[host].role}) of {topology.name}: rendered from firewall/policy.yml by
# `osonctl firewall render`; do not edit here. Inbound: only the policy's flows to this host.
# Only this table is replaced; other tables (a container engine's, say) are left alone.

table inet {HOST_TABLE}
delete table inet {HOST_TABLE}

table inet {HOST_TABLE} {{
    chain input {{
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        ct state invalid drop
        iif "lo" accept
        # IPv6 neighbour discovery (the appliance's networks are IPv4, but links still speak it).
        icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert }} accept
{body}
        limit rate 10/second burst 20 packets log prefix "oson-fw drop: " level info
        counter drop
    }}

    # The VMs route nothing.
    chain forward {{
        type filter hook forward priority filter; policy drop;
    }}

    # Outbound is open: the destination's own inbound rules and the FortiGate decide (docs/firewall.md).
    chain output {{
        type filter hook output priority filter; policy accept;
    }}
}}
"""


def render_host_rulesets(resolved: ResolvedPolicy) -> dict[str, str]:
    return {host: render_host_ruleset(resolved, host) for host in sorted(resolved.topology.hosts)}
